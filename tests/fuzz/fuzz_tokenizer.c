// fuzz_tokenizer.c - the tokenizer (real bert-base-uncased vocabulary) on arbitrary bytes, single
// texts and pairs (split at the first 0xFF byte), with and without truncation and offsets.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "fuzz_common.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bert_tokenizer *tok;
    static char err[BERT_ERROR_SIZE];
    if (!tok) {
        fuzz_file v = fuzz_read("../fixtures/vocab-only/tokenizer.json");
        if (bert_tokenizer_from_json(&tok, v.data, v.n, err) != BERT_STATUS_OK) {
            fprintf(stderr, "fuzz: %s\n", err);
            exit(2);
        }
        free(v.data);
    }
    enum { CAP = 64 };
    int32_t ids[CAP], types[CAP], offsets[2 * CAP];
    bert_encoding_info info;
    const char *a = (const char *)data;
    const uint8_t *sep = memchr(data, 0xFF, size);
    if (sep) {
        size_t na = (size_t)(sep - data);
        bert_tokenizer_encode(tok, a, na, (const char *)sep + 1, size - na - 1, 32, ids, types, offsets,
                              CAP, &info, err);
    } else {
        if (bert_tokenizer_encode(tok, a, size, NULL, 0, CAP, ids, types, offsets, CAP, &info, err) ==
            BERT_STATUS_OK) {
            for (int32_t i = 0; i < info.n_tokens; i++) // offsets stay inside the input
                if (offsets[2 * i] < 0 || offsets[2 * i] > offsets[2 * i + 1] ||
                    (size_t)offsets[2 * i + 1] > size)
                    __builtin_trap();
        }
        bert_tokenizer_encode(tok, a, size, NULL, 0, 3, ids, NULL, NULL, CAP, &info, err);
    }
    return 0;
}
