// fuzz_json.c - the JSON reader on arbitrary bytes.
#include <stddef.h>
#include <stdint.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_doc d;
    if (json_parse(&d, (const char *)data, size) == 0) {
        uint64_t u;
        int32_t i;
        for (const json_value *c = d.root->child; c; c = c->next) {
            json_as_u64(c, &u);
            json_as_i32(c, &i);
        }
        json_get(d.root, "a");
    }
    json_free(&d);
    return 0;
}
