// fuzz_common.h - shared helpers for the libFuzzer targets: reading the seed model's small files.
#ifndef BERT_FUZZ_COMMON_H
#define BERT_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "bert.h"

#ifndef BERT_FUZZ_DIR
#define BERT_FUZZ_DIR "tests/fuzz"
#endif

typedef struct {
    char *data;
    size_t n;
} fuzz_file;

// Reads BERT_FUZZ_DIR/rel whole (setup only; the fuzzed code never reads files). Exits on failure:
// this is the harness, not the library.
static fuzz_file fuzz_read(const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", BERT_FUZZ_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot open %s (run tests/fuzz/make_seeds.py)\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    fuzz_file r = {malloc((size_t)n + 1), (size_t)n};
    if (!r.data || fread(r.data, 1, (size_t)n, f) != (size_t)n) exit(2);
    fclose(f);
    return r;
}

// The micro model's small files, added to a fresh loader.
static bert_loader *fuzz_micro_loader(bert_type wtype) {
    static fuzz_file config, vocab, tok_config;
    if (!config.data) {
        config = fuzz_read("micro/config.json");
        vocab = fuzz_read("micro/vocab.txt");
        tok_config = fuzz_read("micro/tokenizer_config.json");
    }
    bert_load_params p = bert_load_default_params();
    p.wtype = wtype;
    p.max_tokens = 16;
    p.max_batch = 2;
    bert_loader *l = NULL;
    if (bert_loader_init(&l, &p) != BERT_STATUS_OK) return NULL;
    if (bert_loader_add_file(l, "config.json", config.data, config.n) ||
        bert_loader_add_file(l, "vocab.txt", vocab.data, vocab.n) ||
        bert_loader_add_file(l, "tokenizer_config.json", tok_config.data, tok_config.n)) {
        fprintf(stderr, "fuzz: micro model files rejected: %s\n", bert_loader_error(l));
        exit(2);
    }
    return l;
}

#endif
