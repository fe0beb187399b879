// fuzz_json.c - the JSON reader on arbitrary bytes.
#include <stddef.h>
#include <stdint.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_doc d;
    if (bert_json_parse(&d, (const char *)data, size) == 0) {
        uint64_t u;
        int32_t i;
        for (const json_value *c = d.root->child; c; c = c->next) {
            bert_json_as_u64(c, &u);
            bert_json_as_i32(c, &i);
        }
        bert_json_get(d.root, "a");
    }
    bert_json_free(&d);
    return 0;
}
