// test_json.c - the strict JSON reader: valid documents, exact integers, and rejections with
// byte offsets.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static int failures = 0;
#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
            failures++;                                                                          \
        }                                                                                        \
    } while (0)

static int parses(const char *s) {
    json_doc d;
    int rc = bert_json_parse(&d, s, strlen(s));
    bert_json_free(&d);
    return rc == 0;
}

static void test_valid(void) {
    const char *s = "{\"a\": [1, 2.5, -3e2, true, false, null], \"b\": {\"c\": \"x\\u00e9\\ud83d\\ude00\\n\"},"
                    " \"big\": 18446744073709551615, \"a\": 7}";
    json_doc d;
    CHECK(bert_json_parse(&d, s, strlen(s)) == 0);
    const json_value *a = bert_json_get(d.root, "a");
    CHECK(a && a->type == JSON_NUMBER); // duplicate key: last wins
    int32_t i;
    CHECK(bert_json_as_i32(a, &i) == 0 && i == 7);
    const json_value *c = bert_json_get(bert_json_get(d.root, "b"), "c");
    CHECK(bert_json_is_string(c, "x\xc3\xa9\xf0\x9f\x98\x80\n"));
    uint64_t big;
    CHECK(bert_json_as_u64(bert_json_get(d.root, "big"), &big) == 0 && big == UINT64_MAX);
    CHECK(d.root->len == 4);
    bert_json_free(&d);

    const char *arr = "[10, 20, 30]";
    CHECK(bert_json_parse(&d, arr, strlen(arr)) == 0);
    CHECK(bert_json_as_i32(bert_json_at(d.root, 2), &i) == 0 && i == 30);
    CHECK(bert_json_at(d.root, 3) == NULL);
    bert_json_free(&d);
}

static void test_invalid(void) {
    const char *bad[] = {"",       "{",          "[1,]",          "{\"a\" 1}",   "{\"a\":1,}", "01",
                         "1.",     "-",          "\"\\x\"",       "\"abc",       "tru",        "[1] x",
                         "\"\x01\"", "\"\xff\"", "\"\xc0\xaf\"", "{1:2}",       "[\"\\u12G4\"]", "nul"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (parses(bad[k])) {
            fprintf(stderr, "accepted invalid JSON #%zu: %s\n", k, bad[k]);
            failures++;
        }
    }
    // The error names the byte offset.
    json_doc d;
    const char *s = "{\"a\": [1, 2,, 3]}";
    CHECK(bert_json_parse(&d, s, strlen(s)) == -1);
    CHECK(strstr(d.error, "at byte 12") != NULL);
    bert_json_free(&d);
}

static void test_depth(void) {
    char buf[200];
    memset(buf, '[', 100);
    memset(buf + 100, ']', 100);
    json_doc d;
    CHECK(bert_json_parse(&d, buf, 200) == -1);
    CHECK(strstr(d.error, "too deep") != NULL);
    bert_json_free(&d);
    CHECK(bert_json_parse(&d, buf + 100 - JSON_MAX_DEPTH, 2 * JSON_MAX_DEPTH) == 0);
    bert_json_free(&d);
}

static void test_integers(void) {
    json_doc d;
    const char *s = "[18446744073709551616, -1, 1.5, 1e3, 2147483648, -2147483648]";
    CHECK(bert_json_parse(&d, s, strlen(s)) == 0);
    uint64_t u;
    int32_t i;
    CHECK(bert_json_as_u64(bert_json_at(d.root, 0), &u) == -1); // 2^64 overflows
    CHECK(bert_json_as_u64(bert_json_at(d.root, 1), &u) == -1);
    CHECK(bert_json_as_u64(bert_json_at(d.root, 2), &u) == -1);
    CHECK(bert_json_as_u64(bert_json_at(d.root, 3), &u) == -1); // exponent: not an exact integer literal
    CHECK(bert_json_as_i32(bert_json_at(d.root, 4), &i) == -1);
    CHECK(bert_json_as_i32(bert_json_at(d.root, 5), &i) == 0 && i == INT32_MIN);
    bert_json_free(&d);
}

int main(void) {
    test_valid();
    test_invalid();
    test_depth();
    test_integers();
    if (failures) {
        fprintf(stderr, "test_json: %d failures\n", failures);
        return 1;
    }
    printf("test_json: ok\n");
    return 0;
}
