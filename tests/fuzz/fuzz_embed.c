// fuzz_embed.c - load the micro model with fuzzed weight VALUES (valid header, any bytes as data:
// NaN, Inf, huge, subnormal) in every storage type, then embed. Must give a defined result or a
// clear error, never UB (run under UBSan).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fuzz_file model;
    static uint64_t header_end;
    if (!model.data) {
        model = fuzz_read("micro/model.safetensors");
        uint64_t hl = 0;
        for (int i = 7; i >= 0; i--) hl = hl << 8 | (uint8_t)model.data[i];
        header_end = 8 + hl;
    }
    if (size < 1) return 0;
    static const bert_type types[] = {BERT_TYPE_F32, BERT_TYPE_F16, BERT_TYPE_Q8_0, BERT_TYPE_Q4_0};
    bert_type t = types[data[0] % 4];
    data++;
    size--;
    bert_loader *l = fuzz_micro_loader(t);
    bert_status st = bert_loader_write(l, model.data, header_end);
    // Tensor data: the fuzzer's bytes, repeated to fill the file exactly.
    size_t body = model.n - header_end, done = 0;
    uint8_t buf[4096];
    while (st == BERT_STATUS_OK && done < body) {
        size_t n = body - done < sizeof buf ? body - done : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = size ? data[(done + i) % size] : 0;
        st = bert_loader_write(l, buf, n);
        done += n;
    }
    bert_model *m = NULL;
    if (st == BERT_STATUS_OK && bert_loader_finish(l, &m) == BERT_STATUS_OK) {
        const char *texts[] = {"hello world", "a b c d e f g h", ""};
        float out[3 * 64];
        bert_embed_texts(m, texts, NULL, 3, out, sizeof out / sizeof out[0]);
        bert_model_free(m);
    }
    bert_loader_free(l);
    return 0;
}
