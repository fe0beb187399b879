// test_tokenizer.c - unit tests of the tokenizer (src/tokenizer.h, src/unicode.h) on the real
// bert-base-uncased vocabulary of tests/fixtures/vocab-only: special cases, invalid UTF-8, empty
// and whitespace-only text, a 10 MB text, pairs, truncation (Hugging Face longest-first), offsets.
// Token ids are looked up by string, never hard-coded. The differential test against transformers.js
// is tests/tokenizer/diff.test.mjs.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "tokenizer.h"
#include "unicode.h"

static int n_fail = 0, n_check = 0;
#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        n_check++;                                                                        \
        if (!(cond)) {                                                                    \
            n_fail++;                                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
        }                                                                                 \
    } while (0)

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)sz + 1);
    if (d && fread(d, 1, (size_t)sz, f) != (size_t)sz) {
        free(d);
        d = NULL;
    }
    fclose(f);
    if (d) d[sz] = 0;
    *n = (size_t)sz;
    return d;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CAP 4096
static int32_t ids[CAP], types[CAP], offs[2 * CAP];
static bert_encoding_info info;
static char err[BERT_ERROR_SIZE];

static bert_status enc(const bert_tokenizer *t, const char *a, const char *b, int32_t max) {
    return bert_tokenizer_encode(t, a, strlen(a), b, b ? strlen(b) : 0, max, ids, types, offs, CAP, &info, err);
}

static int32_t id_of(const bert_tokenizer *t, const char *s) {
    int32_t id = bert_tokenizer_token_id(t, s, strlen(s));
    if (id < 0) {
        fprintf(stderr, "token '%s' not in vocab\n", s);
        exit(1);
    }
    return id;
}

// Checks the encoding of text is exactly the given tokens (NULL-terminated), specials included.
static void expect_tokens(const bert_tokenizer *t, const char *text, const char *const *toks) {
    bert_status st = enc(t, text, NULL, 0);
    CHECK(st == BERT_STATUS_OK, "%s", err);
    int n = 0;
    while (toks[n]) n++;
    CHECK(info.n_tokens == n, "'%s': %d tokens, expected %d", text, info.n_tokens, n);
    for (int i = 0; i < n && i < info.n_tokens; i++)
        CHECK(ids[i] == id_of(t, toks[i]), "'%s' token %d: got '%s', expected '%s'", text, i,
              bert_tokenizer_token(t, ids[i]), toks[i]);
}

// The normalized text of an encoding: pieces joined (## removed), words separated by spaces.
static void joined(const bert_tokenizer *t, char *out, size_t cap) {
    size_t o = 0;
    out[0] = 0;
    for (int i = 1; i + 1 < info.n_tokens; i++) {
        const char *s = bert_tokenizer_token(t, ids[i]);
        int cont = strncmp(s, "##", 2) == 0;
        if (cont) s += 2;
        else if (o) out[o++] = ' ';
        size_t l = strlen(s);
        if (o + l + 2 >= cap) break;
        memcpy(out + o, s, l);
        o += l;
        out[o] = 0;
    }
}

static void test_utf8_decoder(void) {
    // WHATWG: each maximal subpart of an ill-formed sequence is one U+FFFD.
    struct {
        const char *in;
        int n;
        uint32_t cps[8];
    } cases[] = {
        {"a\xc3\xa9", 2, {'a', 0xE9}},
        {"\xf0\x9f\x98x", 2, {0xFFFD, 'x'}},          // truncated 4-byte: one replacement
        {"\xe0\x80\xaf", 3, {0xFFFD, 0xFFFD, 0xFFFD}}, // overlong: E0 needs A0..BF
        {"\xed\xa0\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}}, // surrogate
        {"\xf4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}},
        {"\xc0\xaf", 2, {0xFFFD, 0xFFFD}},
        {"\xe2\x82\xac\xe2\x82", 2, {0x20AC, 0xFFFD}},
        {"\xf0\x90\x80\x80", 1, {0x10000}},
        {"\xf4\x8f\xbf\xbf", 1, {0x10FFFF}},
        {"\xff\xfe", 2, {0xFFFD, 0xFFFD}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const uint8_t *s = (const uint8_t *)cases[k].in;
        size_t n = strlen(cases[k].in), pos = 0;
        int m = 0;
        while (pos < n && m < 8) {
            uint32_t cp = bert_utf8_next(s, n, &pos);
            CHECK(m < cases[k].n && cp == cases[k].cps[m], "case %zu cp %d = U+%04X", k, m, cp);
            m++;
        }
        CHECK(m == cases[k].n, "case %zu: %d code points, expected %d", k, m, cases[k].n);
    }
    // Encoder round trip over all scalar values.
    int bad = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        uint8_t b[4];
        size_t pos = 0;
        int l = bert_utf8_put(cp, b);
        if (bert_utf8_next(b, (size_t)l, &pos) != cp || pos != (size_t)l) bad++;
    }
    CHECK(bad == 0, "%d code points do not round-trip", bad);
}

static void test_unicode_tables(void) {
    uint32_t o[4];
    CHECK(bert_uc_lower(0x130, o) == 2 && o[0] == 'i' && o[1] == 0x307, "U+0130 lowercases to i + U+0307");
    CHECK(bert_uc_lower(0x3A3, o) == 1 && o[0] == 0x3C3, "Sigma");
    CHECK(bert_uc_lower(0x10400, o) == 1 && o[0] == 0x10428, "Deseret");
    CHECK(bert_uc_lower(0x100, o) == 1 && o[0] == 0x101, "A macron");
    CHECK(bert_uc_lower(0x101, o) == 1 && o[0] == 0x101, "a macron unchanged");
    CHECK(bert_uc_decompose(0x1E69, o) == 3 && o[0] == 's' && o[1] == 0x323 && o[2] == 0x307, "s dot below dot above");
    CHECK(bert_uc_decompose(0xAC01, o) == 3 && o[0] == 0x1100 && o[1] == 0x1161 && o[2] == 0x11A8, "Hangul");
    CHECK(bert_uc_decompose(0x1F82, o) == 4, "U+1F82 decomposes to 4");
    CHECK(bert_uc_decompose('a', o) == 1 && o[0] == 'a', "no decomposition");
    CHECK((bert_uc_props(0x301) & BERT_UC_MN) && !(bert_uc_props('a') & BERT_UC_MN), "Mn");
    CHECK((bert_uc_props('$') & BERT_UC_PUNCT) && (bert_uc_props(0x3002) & BERT_UC_PUNCT) && !(bert_uc_props(0x20AC) & BERT_UC_PUNCT),
          "punctuation: ASCII symbols yes, Sc outside ASCII no");
    CHECK((bert_uc_props(0x3000) & BERT_UC_SPACE) && (bert_uc_props(0x2028) & BERT_UC_SPACE), "spaces");
    CHECK((bert_uc_props(0x200B) & BERT_UC_CONTROL) && (bert_uc_props(0xE000) & BERT_UC_CONTROL), "Cf / Co");
    CHECK(bert_uc_ccc_nonmn(0x1D165) == 216 && bert_uc_ccc_nonmn('a') == 0, "ccc");
    CHECK(bert_uc_mn_has_ccc(0x301) && !bert_uc_mn_has_ccc(0x0F71 + 0x1000), "Mn ccc");
    CHECK(strcmp(bert_unicode_version, "15.0.0") == 0, "Unicode version %s", bert_unicode_version);
}

static void test_basic(const bert_tokenizer *t) {
    {
        const char *e[] = {"[CLS]", "hello", ",", "world", "!", "[SEP]", NULL};
        expect_tokens(t, "Hello, World!", e);
        CHECK(offs[2] == 0 && offs[3] == 5 && offs[4] == 5 && offs[5] == 6 && offs[6] == 7 && offs[7] == 12,
              "offsets of Hello, World");
        CHECK(offs[0] == 0 && offs[1] == 0 && offs[10] == 0 && offs[11] == 0, "specials at [0,0]");
        CHECK(types[0] == 0 && types[5] == 0, "type ids 0");
    }
    {
        const char *e[] = {"[CLS]", "una", "##ffa", "##ble", "[SEP]", NULL};
        expect_tokens(t, "unaffable", e);
        CHECK(offs[2] == 0 && offs[3] == 3 && offs[4] == 3 && offs[5] == 6 && offs[6] == 6 && offs[7] == 9,
              "piece offsets");
    }
    {
        const char *e[] = {"[CLS]", "cafe", "[SEP]", NULL};
        expect_tokens(t, "  CAFÉ\t", e); // lowercase + strip accents
        CHECK(offs[2] == 2 && offs[3] == 7, "offsets of CAFÉ: [%d,%d)", offs[2], offs[3]);
        expect_tokens(t, "cafe\xcc\x81", e); // decomposed input
    }
    {
        const char *e[] = {"[CLS]", "x", "[MASK]", "y", "[SEP]", "[SEP]", NULL};
        expect_tokens(t, "x[MASK]y[SEP]", e); // added tokens split out of the raw text
        const char *e2[] = {"[CLS]", "[", "mask", "]", "[SEP]", NULL};
        expect_tokens(t, "[mask]", e2); // case-sensitive, not normalized
    }
    {
        const char *e[] = {"[CLS]", "中", "文", "[SEP]", NULL};
        expect_tokens(t, "中文", e);
    }
    // Empty, whitespace-only, controls only, NUL bytes.
    const char *empty[] = {"[CLS]", "[SEP]", NULL};
    expect_tokens(t, "", empty);
    CHECK(info.n_untruncated == 2, "empty untruncated");
    expect_tokens(t, " \t\r\n\xe3\x80\x80\xc2\xa0", empty);
    expect_tokens(t, "\x01\x7f\xef\xbf\xbd\xe2\x80\x8b", empty);
    {
        char nul[] = "ab\0cd";
        bert_status st = bert_tokenizer_encode(t, nul, 5, NULL, 0, 0, ids, types, offs, CAP, &info, err);
        char j[256];
        joined(t, j, sizeof j);
        CHECK(st == BERT_STATUS_OK && strcmp(j, "abcd") == 0, "NUL is dropped inside a word: '%s'", j);
    }
    // Invalid UTF-8: U+FFFD is dropped, so the bytes around it join.
    {
        char j[256];
        enc(t, "ab\xe2\x82" "cd caf\xe9", NULL, 0);
        joined(t, j, sizeof j);
        CHECK(strcmp(j, "abcd caf") == 0, "invalid UTF-8: '%s'", j);
    }
    // Final sigma, U+0130, Hangul.
    {
        char j[256];
        enc(t, "ΟΔΟΣ ΣΑ İ", NULL, 0);
        joined(t, j, sizeof j);
        CHECK(strcmp(j, "οδος σα i") == 0, "sigma / dotted I: '%s'", j);
    }
    // Long words: > max_input_chars_per_word characters is [UNK] over the whole word.
    {
        char w[256];
        memset(w, 'a', 101);
        w[101] = 0;
        enc(t, w, NULL, 0);
        CHECK(info.n_tokens == 3 && ids[1] == id_of(t, "[UNK]") && offs[2] == 0 && offs[3] == 101, "101 chars -> [UNK]");
        w[100] = 0;
        enc(t, w, NULL, 0);
        CHECK(info.n_tokens > 3 && ids[1] != id_of(t, "[UNK]"), "100 chars -> pieces");
        // 100 two-byte characters that NFD+strip to one each: counts characters, not bytes.
        char e[512] = "";
        for (int i = 0; i < 100; i++) strcat(e, "\xc3\xa9");
        enc(t, e, NULL, 0);
        CHECK(ids[1] != id_of(t, "[UNK]"), "100 x é is not [UNK]");
    }
}

static void test_pairs_truncation(const bert_tokenizer *t) {
    int32_t cls = id_of(t, "[CLS]"), sep = id_of(t, "[SEP]");
    bert_status st = enc(t, "hello", "world", 0);
    CHECK(st == BERT_STATUS_OK && info.n_tokens == 5, "pair");
    CHECK(ids[0] == cls && ids[1] == id_of(t, "hello") && ids[2] == sep && ids[3] == id_of(t, "world") && ids[4] == sep,
          "pair ids");
    CHECK(types[0] == 0 && types[1] == 0 && types[2] == 0 && types[3] == 1 && types[4] == 1, "pair type ids");
    CHECK(offs[6] == 0 && offs[7] == 5, "pair offsets are in b's own bytes");
    st = enc(t, "hello", "", 0);
    CHECK(st == BERT_STATUS_OK && info.n_tokens == 4 && ids[3] == sep && ids[2] == sep, "pair with empty b");

    // Single truncation keeps [CLS] ... [SEP].
    st = enc(t, "a b c d e f g", NULL, 5);
    CHECK(st == BERT_STATUS_OK && info.n_tokens == 5 && info.n_untruncated == 9, "single truncation %d %d",
          info.n_tokens, info.n_untruncated);
    CHECK(ids[4] == sep && ids[3] == id_of(t, "c"), "single truncation keeps the prefix and [SEP]");
    // Longest-first (Hugging Face tokenizers truncate_encodings): content room 7 (max_tokens 10).
    static const int cases[][4] = {{0, 8, 0, 7}, {2, 8, 2, 5}, {4, 4, 3, 4}, {4, 8, 3, 4}, {8, 2, 5, 2},
                                   {8, 4, 4, 3}, {8, 8, 3, 4}, {4, 2, 4, 2}, {2, 2, 2, 2}, {7, 0, 7, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char a[64] = "", b[64] = "";
        for (int i = 0; i < cases[k][0]; i++) strcat(a, "x ");
        for (int i = 0; i < cases[k][1]; i++) strcat(b, "y ");
        st = enc(t, a, b, 10);
        int n1 = cases[k][2], n2 = cases[k][3];
        CHECK(st == BERT_STATUS_OK && info.n_tokens == n1 + n2 + 3 && info.n_untruncated == cases[k][0] + cases[k][1] + 3,
              "case %zu: %d tokens", k, info.n_tokens);
        CHECK(ids[1 + n1] == sep && ids[2 + n1 + n2] == sep && types[1 + n1] == 0 && types[2 + n1] == (n2 ? 1 : 1),
              "case %zu layout", k);
        int ok = 1;
        for (int i = 0; i < n1; i++) ok &= ids[1 + i] == id_of(t, "x");
        for (int i = 0; i < n2; i++) ok &= ids[2 + n1 + i] == id_of(t, "y") && types[2 + n1 + i] == 1;
        CHECK(ok, "case %zu contents", k);
    }
    // Bad arguments.
    CHECK(enc(t, "a", "b", 2) == BERT_STATUS_INVALID_ARGUMENT, "max_tokens below the specials");
    st = bert_tokenizer_encode(t, "a b c", 5, NULL, 0, 0, ids, NULL, NULL, 3, &info, err);
    CHECK(st == BERT_STATUS_INVALID_ARGUMENT && info.n_tokens == 5, "buffer too small reports the size");
    st = bert_tokenizer_encode(t, "a b c", 5, NULL, 0, 0, NULL, NULL, NULL, 0, &info, err);
    CHECK(st == BERT_STATUS_OK && info.n_tokens == 5 && info.n_untruncated == 5, "size query (ids NULL, cap 0)");
}

// 10 MB texts: bounded output and linear time. Each pattern is timed at 1 MB and at 10 MB; a
// linear path takes about 10x as long (allowed: 25x + 50 ms of noise), a quadratic one 100x.
static void fill(char *s, size_t n, const char *pat, int lead, size_t *m) {
    size_t pl = strlen(pat), k = 0;
    if (lead) s[k++] = 'e';
    while (k + pl <= n) {
        memcpy(s + k, pat, pl);
        k += pl;
    }
    *m = k;
}

static void test_large(const bert_tokenizer *t) {
    size_t n = 10u << 20;
    char *s = malloc(n + 1);
    const char *pats[] = {
        "The quick brown fox jumps over the lazy dog. Καλημέρα κόσμε! 你好，世界。 ",
        "a",                                 // one 10 MB word
        "\xce\xa3\xcc\x81",                  // Sigma + combining acute: Final_Sigma lookahead
        "\xcc\x81",                          // 10 MB of combining marks after one letter
        "\xf0\x9d\x85\xad\xf0\x9d\x85\xa5",  // U+1D16D U+1D165: canonical reordering runs
        "[",                                 // added-token candidates everywhere
        "\xff",                              // invalid bytes
        " ",                                 // whitespace only
    };
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        size_t m;
        fill(s, n / 10, pats[k], k == 3, &m);
        double t0 = now();
        bert_status st = bert_tokenizer_encode(t, s, m, NULL, 0, 512, ids, types, offs, CAP, &info, err);
        double dt1 = now() - t0;
        CHECK(st == BERT_STATUS_OK, "pattern %zu 1 MB: %s", k, err);
        fill(s, n, pats[k], k == 3, &m);
        t0 = now();
        st = bert_tokenizer_encode(t, s, m, NULL, 0, 512, ids, types, offs, CAP, &info, err);
        double dt = now() - t0;
        printf("pattern %zu: 1 MB %.3f s, 10 MB %.3f s (%d tokens kept of %d)\n", k, dt1, dt, info.n_tokens,
               info.n_untruncated);
        CHECK(st == BERT_STATUS_OK, "pattern %zu: %s", k, err);
        CHECK(info.n_tokens <= 512 && info.n_untruncated >= info.n_tokens, "pattern %zu bounds", k);
        CHECK(dt < 25 * dt1 + 0.05, "pattern %zu not linear: 1 MB %.3f s, 10 MB %.3f s", k, dt1, dt);
        if (k == 0) CHECK(info.n_tokens == 512 && info.n_untruncated > 1000000, "pattern 0 counts %d", info.n_untruncated);
        if (k == 1) CHECK(info.n_untruncated == 3 && ids[1] == id_of(t, "[UNK]") && offs[3] == (int32_t)m, "one long word");
        if (k == 7) CHECK(info.n_untruncated == 2, "whitespace only");
        if (k == 0 || k == 2) { // a pair of two large texts
            st = bert_tokenizer_encode(t, s, m / 2, s + m / 2, m - m / 2, 128, ids, types, offs, CAP, &info, err);
            CHECK(st == BERT_STATUS_OK && info.n_tokens <= 128 && ids[info.n_tokens - 1] == id_of(t, "[SEP]"),
                  "pattern %zu pair", k);
        }
    }
    free(s);
}

static void test_variants(const char *json, size_t n) {
    // Cased: lowercase false in the normalizer. "Hello" is not in the uncased vocab.
    char *cased = malloc(n + 1);
    memcpy(cased, json, n);
    cased[n] = 0;
    char *p = strstr(cased, "\"lowercase\": true");
    CHECK(p != NULL, "fixture has a lowercase option");
    if (!p) return;
    memcpy(p, "\"lowercase\":false", 17);
    bert_tokenizer *t;
    CHECK(bert_tokenizer_from_json(&t, cased, n, err) == BERT_STATUS_OK, "%s", err);
    // tokenizer_config.json may not override tokenizer.json's normalizer.
    const char *cfg = "{\"do_lower_case\": true, \"model_max_length\": 1000000000000000019884624838656}";
    CHECK(bert_tokenizer_apply_config(t, cfg, strlen(cfg), err) == BERT_STATUS_OK, "%s", err);
    CHECK(bert_tokenizer_max_length(t) == 0, "huge model_max_length ignored");
    enc(t, "Hello hello", NULL, 0);
    CHECK(info.n_tokens == 4 && ids[1] == id_of(t, "[UNK]") && ids[2] == id_of(t, "hello"), "cased");
    enc(t, "café", NULL, 0); // strip_accents null follows lowercase=false: accents kept
    CHECK(!(info.n_tokens == 3 && ids[1] == id_of(t, "cafe")), "cased keeps accents");
    bert_tokenizer_free(t);
    free(cased);
}

int main(void) {
    size_t n_json, n_vocab, n_cfg;
    char *json = read_file(BERT_FIXTURES "/vocab-only/tokenizer.json", &n_json);
    char *vocab = read_file(BERT_FIXTURES "/vocab-only/vocab.txt", &n_vocab);
    char *cfg = read_file(BERT_FIXTURES "/vocab-only/tokenizer_config.json", &n_cfg);
    if (!json || !vocab || !cfg) {
        fprintf(stderr, "fixtures missing in %s/vocab-only\n", BERT_FIXTURES);
        return 1;
    }
    test_utf8_decoder();
    test_unicode_tables();

    bert_tokenizer *tj, *tv;
    CHECK(bert_tokenizer_from_json(&tj, json, n_json, err) == BERT_STATUS_OK, "%s", err);
    CHECK(bert_tokenizer_apply_config(tj, cfg, n_cfg, err) == BERT_STATUS_OK, "%s", err);
    CHECK(bert_tokenizer_from_vocab_txt(&tv, vocab, n_vocab, err) == BERT_STATUS_OK, "%s", err);
    CHECK(bert_tokenizer_apply_config(tv, cfg, n_cfg, err) == BERT_STATUS_OK, "%s", err);
    for (int k = 0; k < 2; k++) {
        const bert_tokenizer *t = k ? tv : tj;
        CHECK(bert_tokenizer_vocab_size(t) == 30522, "vocab size %d", bert_tokenizer_vocab_size(t));
        CHECK(bert_tokenizer_max_length(t) == 512, "max length %d", bert_tokenizer_max_length(t));
        CHECK(bert_tokenizer_token_id(t, "[CLS]", 5) == 101 - 0 * k, "[CLS] id from the files");
        uint64_t mem = bert_tokenizer_memory(t);
        // Strings (231,508 bytes incl. newlines = NULs), offsets, hash slots, scratch: 0.5 .. 1 MiB.
        CHECK(mem > 231508 + 30522 * 4 && mem < (1u << 20), "memory %llu", (unsigned long long)mem);
        printf("tokenizer (%s): %llu bytes held\n", k ? "vocab.txt" : "tokenizer.json", (unsigned long long)mem);
        test_basic(t);
        test_pairs_truncation(t);
    }
    test_large(tj);
    test_variants(json, n_json);

    // Malformed files fail cleanly.
    bert_tokenizer *bad;
    const char *bads[] = {"", "{", "{\"model\": {\"type\": \"BPE\"}}", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": -1}, \"unk_token\": \"a\"}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": \"b\"}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 16000000}, \"unk_token\": \"a\"}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": \"a\", \"max_input_chars_per_word\": 100000}, \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": \"a\"}, \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
                          "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": \"a\"}, \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"[X]\", \"type_id\": 0}}], \"pair\": [], \"special_tokens\": {}}}"};
    for (size_t k = 0; k < sizeof bads / sizeof bads[0]; k++) {
        bert_status st = bert_tokenizer_from_json(&bad, bads[k], strlen(bads[k]), err);
        CHECK(st != BERT_STATUS_OK && bad == NULL && err[0], "bad json %zu accepted", k);
    }
    CHECK(bert_tokenizer_from_vocab_txt(&bad, "a\nb\n", 4, err) == BERT_STATUS_BAD_MODEL, "vocab without specials");
    // A minimal tokenizer.json without normalizer or post-processor: no specials, no lowercasing.
    const char *mini = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"ab\": 1, \"##c\": 2, \"A\": 3}, "
                       "\"unk_token\": \"[UNK]\"}, \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
                       "\"post_processor\": null}";
    CHECK(bert_tokenizer_from_json(&bad, mini, strlen(mini), err) == BERT_STATUS_OK, "%s", err);
    if (bad) {
        bert_status st = bert_tokenizer_encode(bad, "abc A a", 7, NULL, 0, 0, ids, types, offs, CAP, &info, err);
        CHECK(st == BERT_STATUS_OK && info.n_tokens == 4 && ids[0] == 1 && ids[1] == 2 && ids[2] == 3 && ids[3] == 0,
              "minimal tokenizer: %d tokens", info.n_tokens);
        st = bert_tokenizer_encode(bad, "ab", 2, "c", 1, 0, ids, types, offs, CAP, &info, err);
        CHECK(st == BERT_STATUS_OK && info.n_tokens == 2 && types[0] == 0 && types[1] == 1, "minimal pair");
        bert_tokenizer_free(bad);
    }
    // Added tokens: a normalized one is matched in the lowercased, accent-stripped text (anywhere,
    // longest first), an unnormalized one only as written.
    const char *added = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"x\": 1}, \"unk_token\": \"[UNK]\"}, "
                        "\"added_tokens\": [{\"id\": 2, \"content\": \"Café\", \"normalized\": true, \"special\": false}, "
                        "{\"id\": 3, \"content\": \"cafés\", \"normalized\": true}, {\"id\": 4, \"content\": \"<E>\", \"special\": true}], "
                        "\"normalizer\": {\"type\": \"BertNormalizer\", \"lowercase\": true}, \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}, "
                        "\"post_processor\": null}";
    CHECK(bert_tokenizer_from_json(&bad, added, strlen(added), err) == BERT_STATUS_OK, "%s", err);
    if (bad) {
        const char *txt = "xCAFEx CAFÉS <E><e>";
        bert_status st = bert_tokenizer_encode(bad, txt, strlen(txt), NULL, 0, 0, ids, types, offs, CAP, &info, err);
        static const int32_t want[] = {1, 2, 1, 3, 4, 0, 0, 0}; // x café x | cafés | <E> | < [UNK] >
        int ok = st == BERT_STATUS_OK && info.n_tokens == 8;
        for (int i = 0; ok && i < 8; i++) ok = ids[i] == want[i];
        CHECK(ok, "added tokens: %d tokens, ids %d %d %d %d %d", info.n_tokens, ids[0], ids[1], ids[2], ids[3], ids[4]);
        CHECK(offs[2] == 1 && offs[3] == 5 && offs[6] == 7 && offs[7] == 13 && offs[8] == 14 && offs[9] == 17,
              "added token offsets");
        bert_tokenizer_free(bad);
    }

    bert_tokenizer_free(tj);
    bert_tokenizer_free(tv);
    free(json);
    free(vocab);
    free(cfg);
    printf("test_tokenizer: %d checks, %d failed\n", n_check, n_fail);
    return n_fail ? 1 : 0;
}
