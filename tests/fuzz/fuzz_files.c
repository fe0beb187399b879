// fuzz_files.c - the small model files (config.json, tokenizer.json, vocab.txt,
// tokenizer_config.json, sentence-transformers files) through bert_loader_add_file. The first byte
// picks which file the rest is; a fixed good config.json comes first where needed.
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

static const char *names[] = {"config.json",   "tokenizer.json",        "vocab.txt",
                              "tokenizer_config.json", "modules.json",  "1_Pooling/config.json",
                              "sentence_bert_config.json", "special_tokens_map.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fuzz_file config;
    if (!config.data) config = fuzz_read("micro/config.json");
    if (size < 1) return 0;
    unsigned which = data[0] % (sizeof names / sizeof names[0]);
    bert_load_params p = bert_load_default_params();
    bert_loader *l = NULL;
    if (bert_loader_init(&l, &p) != BERT_STATUS_OK) return 0;
    if (which != 0) bert_loader_add_file(l, "config.json", config.data, config.n);
    bert_loader_add_file(l, names[which], data + 1, size - 1);
    bert_loader_free(l);
    return 0;
}
