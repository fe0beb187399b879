// json.h - a small strict JSON (RFC 8259) reader for model files: config.json, the safetensors
// header, tokenizer.json. Builds a read-only tree in two allocations (nodes, unescaped strings).
// Depth is limited, all sizes are checked, and a failure says what and at which byte offset.
#ifndef BERT_JSON_H
#define BERT_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
    json_type type;
    uint32_t len;             // string: bytes (UTF-8, unescaped, no NUL inside guaranteed? no: may hold \u0000)
                              // array/object: number of children
    double num;               // JSON_NUMBER
    const char *str;          // JSON_STRING: unescaped bytes, NUL-terminated; JSON_NUMBER: raw text (not terminated)
    const char *key;          // member of an object: its key (unescaped, NUL-terminated)
    uint32_t key_len;
    struct json_value *child; // first child (array/object)
    struct json_value *next;  // next sibling
} json_value;

typedef struct {
    json_value *root;
    json_value *nodes; // owned
    char *strings;     // owned
    char error[160];   // set when bert_json_parse fails
} json_doc;

// Parses text[0..n). Returns 0 on success, -1 on syntax error or too deep (doc->error says where),
// -2 on allocation failure. On failure nothing needs freeing; bert_json_free is still safe.
int bert_json_parse(json_doc *doc, const char *text, size_t n);
void bert_json_free(json_doc *doc);

// Object member by key, or NULL (also NULL when obj is NULL or not an object).
const json_value *bert_json_get(const json_value *obj, const char *key);
// Array element by index, or NULL.
const json_value *bert_json_at(const json_value *arr, uint32_t i);

// Exact non-negative integer from a number's text (no fraction/exponent, fits uint64). 0 on success.
int bert_json_as_u64(const json_value *v, uint64_t *out);
// Exact integer in [INT32_MIN, INT32_MAX] (integral doubles like 3.0 accepted). 0 on success.
int bert_json_as_i32(const json_value *v, int32_t *out);
// String equality with a C string.
int bert_json_is_string(const json_value *v, const char *s);

#endif
