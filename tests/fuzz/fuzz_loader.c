// fuzz_loader.c - model.safetensors bytes of any shape into the push loader of the micro model.
// Chunked mode (FUZZ_CHUNKED): the first byte picks the chunk-size pattern, so the fuzzer explores
// split points as well as content. A successful load is then used once.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t chunk = size ? size : 1;
#ifdef FUZZ_CHUNKED
    if (size < 1) return 0;
    unsigned pattern = data[0];
    data++;
    size--;
    chunk = 1 + (pattern & 0x7F) * ((pattern & 0x80) ? 61 : 1);
#endif
    bert_loader *l = fuzz_micro_loader(BERT_TYPE_Q8_0);
    bert_status st = BERT_STATUS_OK;
    for (size_t off = 0; off < size && st == BERT_STATUS_OK; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        st = bert_loader_write(l, data + off, n);
        chunk = chunk * 3 % 509 + 1; // vary the next boundary deterministically
    }
    bert_model *m = NULL;
    if (st == BERT_STATUS_OK && bert_loader_finish(l, &m) == BERT_STATUS_OK) {
        const char *texts[] = {"hello world", ""};
        float out[2 * 64];
        bert_embed_texts(m, texts, NULL, 2, out, sizeof out / sizeof out[0]);
        bert_model_free(m);
    }
    bert_loader_free(l);
    return 0;
}
