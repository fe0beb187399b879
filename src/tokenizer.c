// tokenizer.c - BERT tokenization that reproduces Hugging Face's (as implemented by transformers.js,
// the reference our differential test runs): added-token splitting, BertNormalizer (clean text, CJK
// spacing, full lowercase with Final_Sigma, NFD + drop Mn), BertPreTokenizer (whitespace and
// punctuation), WordPiece (greedy longest match, continuing-subword prefix), template post-processing
// and longest-first truncation.
//
// The text is processed in one streaming pass per sequence: UTF-8 decode -> normalize -> split ->
// WordPiece, with one word (at most max_input_chars_per_word + 1 characters) buffered in a scratch
// area allocated at load. Nothing allocates per call, and time is linear in the input.
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "unicode.h"

#define TOK_MAX_ID ((1 << 24) - 1) // refuse vocabularies with larger ids (bad files); id + 1 fits 24 bits
#define TOK_PREFIX_BITS 20          // 2^20-bit filter of the hashes of all token prefixes (128 KiB)
#define TOK_MAX_CHARS_LIMIT 1024  // largest max_input_chars_per_word supported
#define TOK_MAX_TEMPLATE 8        // items in a post-processor template
#define TOK_MAX_SPECIAL_IDS 4     // ids of one template special token
#define TOK_MAX_TEXT (INT32_MAX / 8) // byte offsets and token counts stay in int32

typedef struct {
    int32_t ids[TOK_MAX_SPECIAL_IDS];
    int32_t n_ids;    // > 0: special token(s); 0: a sequence
    int32_t seq;      // 0 = A, 1 = B (sequences only)
    int32_t type_id;
} tok_item;

typedef struct {
    tok_item items[TOK_MAX_TEMPLATE];
    int32_t n_items;
    int32_t n_added; // special ids in the template
} tok_template;

typedef struct {
    int32_t id;
    uint32_t off, len; // content in the pool
} tok_split;

typedef struct {
    uint32_t cp;  // code point | canonical combining class << 24
    int32_t b, e; // source byte range
} tok_char;

// A normalized character waiting in the added-token matcher's queue.
typedef struct {
    uint32_t cp, p;
    int32_t ccc, b, e;
} tok_qchar;

// An added token matched in the normalized text (normalized: true): its normalized code points.
typedef struct {
    int32_t id;
    uint32_t off, len; // in norm_cps
} tok_norm;

#define TOK_MAX_NORM_LEN 256 // longer normalized added tokens are not matched

struct bert_tokenizer {
    // Vocabulary: token i is pool[off[i] .. off[i + 1] - 1), NUL-terminated; slots: open addressing,
    // each (id + 1) | hash tag << 24 (0 = empty). prefix_bits: a one-hash filter over the hashes of
    // every prefix (at character boundaries) of every token, so WordPiece stops extending a
    // candidate as soon as no token can start with it.
    int32_t n_vocab;
    uint32_t *off;
    char *pool;
    uint32_t *slots;
    uint32_t slot_mask;
    uint32_t max_token_bytes;
    uint8_t *prefix_bits;
    uint32_t prefix_hash; // hash state after the continuing-subword prefix

    // Normalizer / model options.
    int clean_text, handle_chinese, lowercase, strip_accents; // strip_accents: -1 = follow lowercase
    int normalizer_from_json;                                   // tokenizer_config.json may not override
    int from_json;
    int32_t unk_id;
    char prefix[16];
    int32_t prefix_len;
    int32_t max_chars;
    int32_t max_length_config, max_length_trunc;

    tok_template single, pair;

    // Added tokens split out of the raw text before normalization (longest match).
    tok_split *splits;
    int32_t n_splits;
    uint8_t split_first[32]; // bitset of first bytes
    // Added tokens with normalized: true, matched in the normalized text (longest match).
    tok_norm *norms;
    int32_t n_norms;
    uint32_t *norm_cps;
    int32_t max_norm_len;
    tok_qchar *queue; // scratch: max_norm_len characters

    // Scratch for one word (max_chars + 1 characters): one encode call at a time per tokenizer.
    tok_char *wbuf;
    uint8_t *ubuf;   // its UTF-8, 4 bytes per character
    uint32_t *cidx;  // byte offset of each character in ubuf (+ end)
    uint32_t *hcache; // hash of each candidate piece, by end character

    uint64_t mem;
};

// --------------------------------------------------------------------------------------------
// Vocabulary hash

static uint32_t hash_bytes(uint32_t h, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}
#define HASH_SEED 2166136261u

static uint32_t tok_len(const bert_tokenizer *t, int32_t id) { return t->off[id + 1] - t->off[id] - 1; }

static inline int prefix_bit(const bert_tokenizer *t, uint32_t h) {
    h ^= h >> 15; // fold the high bits in: FNV's low bits alone are weak for short strings
    h &= (1u << TOK_PREFIX_BITS) - 1;
    return (t->prefix_bits[h >> 3] >> (h & 7)) & 1;
}

// Id of prefix (when with_prefix) + s[0..n) whose hash is h, or -1.
static int32_t vocab_probe(const bert_tokenizer *t, uint32_t h, int with_prefix, const uint8_t *s, size_t n) {
    size_t pl = with_prefix ? (size_t)t->prefix_len : 0;
    uint32_t tag = h >> 24;
    for (uint32_t i = h & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        uint32_t v = t->slots[i];
        if (!v) return -1;
        if ((v >> 24) != tag) continue;
        int32_t id = (int32_t)(v & 0xFFFFFF) - 1;
        if (tok_len(t, id) == pl + n) {
            const char *p = t->pool + t->off[id];
            if (memcmp(p, t->prefix, pl) == 0 && memcmp(p + pl, s, n) == 0) return id;
        }
    }
}

static int32_t vocab_find(const bert_tokenizer *t, int with_prefix, const uint8_t *s, size_t n) {
    size_t pl = with_prefix ? (size_t)t->prefix_len : 0;
    if (pl + n > t->max_token_bytes) return -1;
    uint32_t h = with_prefix ? t->prefix_hash : HASH_SEED;
    return vocab_probe(t, hash_bytes(h, s, n), with_prefix, s, n);
}

// Inserts id (its string already in the pool); a later id for the same string wins, as in a map.
static void vocab_insert(bert_tokenizer *t, int32_t id) {
    const uint8_t *s = (const uint8_t *)t->pool + t->off[id];
    uint32_t n = tok_len(t, id);
    uint32_t h = hash_bytes(HASH_SEED, s, n), v_new = ((uint32_t)id + 1) | (h >> 24) << 24;
    for (uint32_t i = h & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        uint32_t v = t->slots[i];
        if (!v) {
            t->slots[i] = v_new;
            break;
        }
        int32_t o = (int32_t)(v & 0xFFFFFF) - 1;
        if ((v >> 24) == (h >> 24) && tok_len(t, o) == n && memcmp(t->pool + t->off[o], s, n) == 0) {
            t->slots[i] = v_new;
            break;
        }
    }
    if (n > t->max_token_bytes) t->max_token_bytes = n;
    // Prefix filter: every prefix that ends at a character boundary.
    uint32_t hp = HASH_SEED;
    for (uint32_t k = 0; k < n; k++) {
        hp = hash_bytes(hp, s + k, 1);
        if (k + 1 == n || (s[k + 1] & 0xC0) != 0x80) {
            uint32_t b = (hp ^ (hp >> 15)) & ((1u << TOK_PREFIX_BITS) - 1);
            t->prefix_bits[b >> 3] |= (uint8_t)(1u << (b & 7));
        }
    }
}

static void *tok_alloc(bert_tokenizer *t, uint64_t n) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX) return NULL;
    void *p = calloc(1, (size_t)n);
    if (p) t->mem += n;
    return p;
}

// Allocates the vocabulary arrays for ids [0, n_vocab) holding pool_bytes of strings (without NULs);
// n_entries strings will be hashed.
static bert_status vocab_alloc(bert_tokenizer *t, int32_t n_vocab, uint64_t n_entries, uint64_t pool_bytes, char *err) {
    // Dense ids only (a sparse id would make the id-indexed arrays huge), offsets fit uint32.
    if ((uint64_t)n_vocab > 2 * n_entries + 1024 || pool_bytes + (uint64_t)n_vocab >= UINT32_MAX)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer: %llu tokens with ids up to %d, %llu bytes: not a usable vocabulary",
                         (unsigned long long)n_entries, n_vocab - 1, (unsigned long long)pool_bytes);
    uint64_t slots = 16;
    while (slots < n_entries * 2) slots <<= 1;
    t->n_vocab = n_vocab;
    t->off = tok_alloc(t, ((uint64_t)n_vocab + 1) * 4);
    t->pool = tok_alloc(t, pool_bytes + (uint64_t)n_vocab);
    t->slots = tok_alloc(t, slots * 4);
    t->slot_mask = (uint32_t)(slots - 1);
    t->prefix_bits = tok_alloc(t, (1u << TOK_PREFIX_BITS) / 8);
    if (!t->off || !t->pool || !t->slots || !t->prefix_bits)
        return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: cannot allocate the vocabulary (%d tokens)", n_vocab);
    return BERT_STATUS_OK;
}

static bert_status scratch_alloc(bert_tokenizer *t, char *err) {
    uint64_t n = (uint64_t)t->max_chars + 1;
    t->wbuf = tok_alloc(t, n * sizeof(tok_char));
    t->ubuf = tok_alloc(t, n * 4);
    t->cidx = tok_alloc(t, (n + 1) * 4);
    t->hcache = tok_alloc(t, (n + 1) * 4);
    t->prefix_hash = hash_bytes(HASH_SEED, (const uint8_t *)t->prefix, (size_t)t->prefix_len);
    if (!t->wbuf || !t->ubuf || !t->cidx || !t->hcache)
        return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: cannot allocate the word scratch");
    return BERT_STATUS_OK;
}

static bert_tokenizer *tok_new(void) {
    bert_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->mem = sizeof *t;
    t->clean_text = 1;
    t->handle_chinese = 1;
    t->lowercase = 1;
    t->strip_accents = -1;
    t->unk_id = -1;
    memcpy(t->prefix, "##", 3);
    t->prefix_len = 2;
    t->max_chars = 100;
    return t;
}

void bert_tokenizer_free(bert_tokenizer *t) {
    if (!t) return;
    free(t->off);
    free(t->pool);
    free(t->slots);
    free(t->splits);
    free(t->wbuf);
    free(t->ubuf);
    free(t->cidx);
    free(t->hcache);
    free(t->prefix_bits);
    free(t->norms);
    free(t->norm_cps);
    free(t->queue);
    free(t);
}

// The standard BERT template: [CLS] A [SEP] / [CLS] A [SEP] B [SEP] (B and its [SEP] type 1).
static void template_bert(bert_tokenizer *t, int32_t cls, int32_t sep) {
    tok_template *s = &t->single, *p = &t->pair;
    memset(s, 0, sizeof *s);
    memset(p, 0, sizeof *p);
    const int32_t seq_of[5] = {-1, 0, -1, 1, -1}, type_of[5] = {0, 0, 0, 1, 1};
    for (int i = 0; i < 5; i++) {
        tok_item it = {{0}, 0, 0, type_of[i]};
        if (seq_of[i] < 0) {
            it.ids[0] = i == 0 ? cls : sep;
            it.n_ids = 1;
        } else {
            it.seq = seq_of[i];
        }
        if (i < 3) s->items[s->n_items++] = it;
        p->items[p->n_items++] = it;
    }
    s->n_added = 2;
    p->n_added = 3;
}


static bert_status add_split(bert_tokenizer *t, int32_t id, int32_t cap) {
    if (t->n_splits >= cap) return BERT_STATUS_OK;
    uint32_t n = tok_len(t, id);
    if (n == 0) return BERT_STATUS_OK;
    for (int32_t i = 0; i < t->n_splits; i++)
        if (t->splits[i].len == n && memcmp(t->pool + t->splits[i].off, t->pool + t->off[id], n) == 0) {
            t->splits[i].id = id; // a later definition of the same content wins
            return BERT_STATUS_OK;
        }
    tok_split *s = &t->splits[t->n_splits++];
    s->id = id;
    s->off = t->off[id];
    s->len = n;
    uint8_t c = (uint8_t)t->pool[s->off];
    t->split_first[c >> 3] |= (uint8_t)(1u << (c & 7));
    return BERT_STATUS_OK;
}

// --------------------------------------------------------------------------------------------
// Loading: tokenizer.json

static int get_bool(const json_value *v, int *out) {
    if (!v) return 0;
    if (v->type == JSON_TRUE) *out = 1;
    else if (v->type == JSON_FALSE) *out = 0;
    else return -1;
    return 1;
}

static bert_status parse_template(bert_tokenizer *t, const json_value *arr, const json_value *specials,
                                  tok_template *out, char *err) {
    memset(out, 0, sizeof *out);
    if (!arr || arr->type != JSON_ARRAY)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: post_processor template is not an array");
    for (const json_value *it = arr->child; it; it = it->next) {
        if (out->n_items >= TOK_MAX_TEMPLATE)
            return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: post_processor template too long");
        tok_item x;
        memset(&x, 0, sizeof x);
        const json_value *sp = bert_json_get(it, "SpecialToken"), *sq = bert_json_get(it, "Sequence");
        const json_value *body = sp ? sp : sq;
        const json_value *name = bert_json_get(body, "id");
        if (!body || !name || name->type != JSON_STRING ||
            (bert_json_get(body, "type_id") && bert_json_as_i32(bert_json_get(body, "type_id"), &x.type_id) != 0))
            return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: bad post_processor template item");
        if (sq) {
            if (bert_json_is_string(name, "A")) x.seq = 0;
            else if (bert_json_is_string(name, "B")) x.seq = 1;
            else return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: template sequence '%s'", name->str);
        } else {
            const json_value *def = bert_json_get(specials, name->str);
            const json_value *ids = bert_json_get(def, "ids");
            if (!ids || ids->type != JSON_ARRAY || ids->len == 0 || ids->len > TOK_MAX_SPECIAL_IDS)
                return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: special token '%s' has no usable ids",
                                 name->str);
            for (const json_value *v = ids->child; v; v = v->next) {
                int32_t id;
                if (bert_json_as_i32(v, &id) != 0 || id < 0 || id >= t->n_vocab)
                    return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: special token '%s' id out of range",
                                     name->str);
                x.ids[x.n_ids++] = id;
            }
            out->n_added += x.n_ids;
        }
        out->items[out->n_items++] = x;
    }
    return BERT_STATUS_OK;
}

static bert_status parse_post_processor(bert_tokenizer *t, const json_value *pp, char *err) {
    if (!pp || pp->type == JSON_NULL) { // no specials at all
        memset(&t->single, 0, sizeof t->single);
        memset(&t->pair, 0, sizeof t->pair);
        t->single.n_items = 1;
        t->pair.n_items = 2;
        t->pair.items[1].seq = 1;
        t->pair.items[1].type_id = 1;
        return BERT_STATUS_OK;
    }
    const json_value *type = bert_json_get(pp, "type");
    if (bert_json_is_string(type, "TemplateProcessing")) {
        const json_value *specials = bert_json_get(pp, "special_tokens");
        bert_status st = parse_template(t, bert_json_get(pp, "single"), specials, &t->single, err);
        if (st == BERT_STATUS_OK) st = parse_template(t, bert_json_get(pp, "pair"), specials, &t->pair, err);
        return st;
    }
    if (bert_json_is_string(type, "BertProcessing")) {
        int32_t ids[2];
        const char *names[2] = {"cls", "sep"};
        for (int i = 0; i < 2; i++) {
            const json_value *a = bert_json_get(pp, names[i]);
            if (!a || a->type != JSON_ARRAY || bert_json_as_i32(bert_json_at(a, 1), &ids[i]) != 0 || ids[i] < 0 ||
                ids[i] >= t->n_vocab)
                return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: BertProcessing.%s is not [token, id]",
                                 names[i]);
        }
        template_bert(t, ids[0], ids[1]);
        return BERT_STATUS_OK;
    }
    return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: post_processor type '%s' is not supported",
                     type && type->type == JSON_STRING ? type->str : "?");
}

// The normalized code points of s[0..n) (BertNormalizer as configured), as transformers.js
// normalizes an added token's content; returns the count (writes at most cap).
static int32_t normalize_string(const bert_tokenizer *t, const char *s, size_t n, uint32_t *out, int32_t cap);

// Normalized contents of the normalized added tokens (t->norms[i].id set), and the matcher queue.
static bert_status norms_build(bert_tokenizer *t, char *err) {
    uint64_t total = 0;
    int32_t k = 0;
    for (int32_t i = 0; i < t->n_norms; i++) { // lengths; too long or empty ones are dropped
        int32_t id = t->norms[i].id, n = normalize_string(t, t->pool + t->off[id], tok_len(t, id), NULL, 0);
        if (n <= 0 || n > TOK_MAX_NORM_LEN) continue;
        t->norms[k].id = id;
        t->norms[k].off = (uint32_t)total;
        t->norms[k].len = (uint32_t)n;
        total += (uint64_t)n;
        if (n > t->max_norm_len) t->max_norm_len = n;
        k++;
    }
    t->n_norms = k;
    if (!k) return BERT_STATUS_OK;
    t->norm_cps = tok_alloc(t, total * 4);
    t->queue = tok_alloc(t, (uint64_t)t->max_norm_len * sizeof(tok_qchar));
    if (!t->norm_cps || !t->queue) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (int32_t i = 0; i < k; i++) {
        int32_t id = t->norms[i].id;
        normalize_string(t, t->pool + t->off[id], tok_len(t, id), t->norm_cps + t->norms[i].off, (int32_t)t->norms[i].len);
    }
    return BERT_STATUS_OK;
}

static bert_status load_json(bert_tokenizer *t, const json_value *root, char *err) {
    const json_value *model = bert_json_get(root, "model");
    if (!model || !bert_json_is_string(bert_json_get(model, "type"), "WordPiece"))
        return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: model.type must be WordPiece");
    const json_value *vocab = bert_json_get(model, "vocab");
    if (!vocab || vocab->type != JSON_OBJECT || vocab->len == 0)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: model.vocab is missing or empty");
    const json_value *added = bert_json_get(root, "added_tokens");
    if (added && added->type != JSON_ARRAY && added->type != JSON_NULL)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: added_tokens is not an array");
    if (added && added->type == JSON_NULL) added = NULL;

    // Sizes: ids and string bytes over vocab and added tokens (an id may be defined twice).
    int32_t max_id = -1;
    uint64_t bytes = 0;
    for (int pass = 0; pass < 2; pass++) {
        const json_value *first = pass == 0 ? vocab->child : (added ? added->child : NULL);
        for (const json_value *v = first; v; v = v->next) {
            int32_t id;
            const json_value *idv = pass == 0 ? v : bert_json_get(v, "id");
            const json_value *content = pass == 0 ? NULL : bert_json_get(v, "content");
            if (bert_json_as_i32(idv, &id) != 0 || id < 0 || id >= TOK_MAX_ID ||
                (pass == 1 && (!content || content->type != JSON_STRING)))
                return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: bad %s entry",
                                 pass == 0 ? "model.vocab" : "added_tokens");
            if (id > max_id) max_id = id;
            bytes += pass == 0 ? v->key_len : content->len;
        }
    }
    bert_status st = vocab_alloc(t, max_id + 1, (uint64_t)vocab->len + (added ? added->len : 0), bytes, err);
    if (st) return st;
    // Strings by id (the last definition of an id wins); lengths first, then offsets, then bytes.
    const json_value **src = calloc((size_t)t->n_vocab, sizeof *src);
    uint8_t *is_key = calloc((size_t)t->n_vocab, 1);
    if (!src || !is_key) {
        free(src);
        free(is_key);
        return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    for (const json_value *v = vocab->child; v; v = v->next) {
        int32_t id;
        bert_json_as_i32(v, &id);
        src[id] = v;
        is_key[id] = 1;
    }
    for (const json_value *v = added ? added->child : NULL; v; v = v->next) {
        int32_t id;
        bert_json_as_i32(bert_json_get(v, "id"), &id);
        src[id] = bert_json_get(v, "content");
        is_key[id] = 0;
    }
    uint32_t o = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        t->off[i] = o;
        if (src[i]) {
            uint32_t n = is_key[i] ? src[i]->key_len : src[i]->len;
            memcpy(t->pool + o, is_key[i] ? src[i]->key : src[i]->str, n);
            o += n;
        }
        t->pool[o++] = 0;
    }
    t->off[t->n_vocab] = o;
    free(is_key);
    // Hash: vocab entries in file order (a duplicate key keeps its last id), then added tokens.
    for (const json_value *v = vocab->child; v; v = v->next) {
        int32_t id;
        bert_json_as_i32(v, &id);
        if (src[id] == v) vocab_insert(t, id);
    }
    free(src);

    // Added tokens, as transformers.js: unnormalized ones (normalized defaults to !special) are
    // split out of the raw text, normalized ones out of the normalized text (once the normalizer
    // is known, below).
    int32_t n_added = added ? (int32_t)added->len : 0;
    t->splits = tok_alloc(t, (uint64_t)(n_added ? n_added : 1) * sizeof(tok_split));
    t->norms = tok_alloc(t, (uint64_t)(n_added ? n_added : 1) * sizeof(tok_norm));
    if (!t->splits || !t->norms) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (const json_value *v = added ? added->child : NULL; v; v = v->next) {
        int32_t id;
        bert_json_as_i32(bert_json_get(v, "id"), &id);
        vocab_insert(t, id);
        int special = 0, normalized;
        get_bool(bert_json_get(v, "special"), &special);
        if (get_bool(bert_json_get(v, "normalized"), &normalized) <= 0) normalized = !special;
        if (normalized) t->norms[t->n_norms++].id = id;
        else add_split(t, id, n_added);
    }

    // Model options.
    const json_value *unk = bert_json_get(model, "unk_token");
    if (!unk || unk->type != JSON_STRING ||
        (t->unk_id = bert_tokenizer_token_id(t, unk->str, unk->len)) < 0)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: model.unk_token is missing or not in the vocabulary");
    const json_value *pfx = bert_json_get(model, "continuing_subword_prefix");
    if (pfx && pfx->type == JSON_STRING) {
        if (pfx->len >= sizeof t->prefix)
            return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: continuing_subword_prefix too long");
        memcpy(t->prefix, pfx->str, pfx->len);
        t->prefix[pfx->len] = 0;
        t->prefix_len = (int32_t)pfx->len;
    }
    const json_value *mc = bert_json_get(model, "max_input_chars_per_word");
    if (mc && mc->type != JSON_NULL) {
        if (bert_json_as_i32(mc, &t->max_chars) != 0 || t->max_chars < 0 || t->max_chars > TOK_MAX_CHARS_LIMIT)
            return bert_fail(err, BERT_STATUS_UNSUPPORTED,
                             "tokenizer.json: max_input_chars_per_word must be 0..%d", TOK_MAX_CHARS_LIMIT);
    }

    // Normalizer.
    const json_value *norm = bert_json_get(root, "normalizer");
    if (!norm || norm->type == JSON_NULL) {
        t->clean_text = t->handle_chinese = t->lowercase = 0;
        t->strip_accents = 0;
    } else if (bert_json_is_string(bert_json_get(norm, "type"), "BertNormalizer")) {
        int b;
        if (get_bool(bert_json_get(norm, "clean_text"), &b) > 0) t->clean_text = b;
        if (get_bool(bert_json_get(norm, "handle_chinese_chars"), &b) > 0) t->handle_chinese = b;
        if (get_bool(bert_json_get(norm, "lowercase"), &b) > 0) t->lowercase = b;
        const json_value *sa = bert_json_get(norm, "strip_accents");
        if (!sa || sa->type == JSON_NULL) t->strip_accents = -1;
        else if (get_bool(sa, &b) > 0) t->strip_accents = b;
        else return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: normalizer.strip_accents must be a bool or null");
    } else {
        const json_value *ty = bert_json_get(norm, "type");
        return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: normalizer type '%s' is not supported",
                         ty && ty->type == JSON_STRING ? ty->str : "?");
    }
    t->normalizer_from_json = 1;
    const json_value *pre = bert_json_get(root, "pre_tokenizer");
    if (!pre || !bert_json_is_string(bert_json_get(pre, "type"), "BertPreTokenizer")) {
        const json_value *ty = bert_json_get(pre, "type");
        return bert_fail(err, BERT_STATUS_UNSUPPORTED, "tokenizer.json: pre_tokenizer '%s' is not supported (BertPreTokenizer only)",
                         ty && ty->type == JSON_STRING ? ty->str : "null");
    }
    st = parse_post_processor(t, bert_json_get(root, "post_processor"), err);
    if (st) return st;
    const json_value *tr = bert_json_get(root, "truncation");
    if (tr && tr->type == JSON_OBJECT) {
        int32_t ml;
        if (bert_json_as_i32(bert_json_get(tr, "max_length"), &ml) == 0 && ml > 0 && ml <= 1000000) t->max_length_trunc = ml;
    }
    st = scratch_alloc(t, err);
    if (st) return st;
    return norms_build(t, err);
}

bert_status bert_tokenizer_from_json(bert_tokenizer **out, const char *json, size_t n, char *err) {
    char local[BERT_ERROR_SIZE];
    if (!err) err = local;
    if (!out || (!json && n)) return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenizer: NULL argument");
    *out = NULL;
    json_doc doc;
    int r = bert_json_parse(&doc, json, n);
    if (r == -2) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer.json: out of memory while parsing");
    if (r != 0) return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer.json: %s", doc.error);
    bert_tokenizer *t = tok_new();
    if (!t) {
        bert_json_free(&doc);
        return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
    }
    t->from_json = 1;
    bert_status st = load_json(t, doc.root, err);
    bert_json_free(&doc);
    if (st) {
        bert_tokenizer_free(t);
        return st;
    }
    *out = t;
    return BERT_STATUS_OK;
}

// --------------------------------------------------------------------------------------------
// Loading: vocab.txt (+ tokenizer_config.json)

// Resolves the special tokens of a vocab.txt tokenizer by name.
static void vocab_txt_specials(bert_tokenizer *t, const char *cls, const char *sep, const char *unk) {
    int32_t c = bert_tokenizer_token_id(t, cls, strlen(cls)), s = bert_tokenizer_token_id(t, sep, strlen(sep));
    int32_t u = bert_tokenizer_token_id(t, unk, strlen(unk));
    if (u >= 0) t->unk_id = u;
    if (c >= 0 && s >= 0) template_bert(t, c, s);
}

bert_status bert_tokenizer_from_vocab_txt(bert_tokenizer **out, const char *txt, size_t n, char *err) {
    char local[BERT_ERROR_SIZE];
    if (!err) err = local;
    if (!out || (!txt && n)) return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenizer: NULL argument");
    *out = NULL;
    if (n > UINT32_MAX / 2) return bert_fail(err, BERT_STATUS_BAD_MODEL, "vocab.txt: too large");
    // One token per line ("\n", a trailing "\r" dropped); a final line without "\n" counts too.
    int64_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += txt[i] == '\n';
    if (n && txt[n - 1] != '\n') lines++;
    if (lines == 0) return bert_fail(err, BERT_STATUS_BAD_MODEL, "vocab.txt: empty");
    if (lines >= TOK_MAX_ID) return bert_fail(err, BERT_STATUS_BAD_MODEL, "vocab.txt: too many tokens");
    bert_tokenizer *t = tok_new();
    if (!t) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
    uint64_t bytes = n - (uint64_t)lines + (n && txt[n - 1] != '\n'); // minus the newlines
    for (size_t i = 0; i < n; i++) bytes -= txt[i] == '\r' && (i + 1 == n || txt[i + 1] == '\n');
    bert_status st = vocab_alloc(t, (int32_t)lines, (uint64_t)lines, bytes, err);
    if (st) goto fail;
    uint32_t o = 0;
    size_t p = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t e = p;
        while (e < n && txt[e] != '\n') e++;
        size_t len = e - p;
        if (len && txt[p + len - 1] == '\r') len--;
        t->off[i] = o;
        memcpy(t->pool + o, txt + p, len);
        o += (uint32_t)len;
        t->pool[o++] = 0;
        p = e + 1;
    }
    t->off[t->n_vocab] = o;
    for (int32_t i = 0; i < t->n_vocab; i++) vocab_insert(t, i);
    t->splits = tok_alloc(t, 16 * sizeof(tok_split));
    if (!t->splits) {
        st = bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer: out of memory");
        goto fail;
    }
    vocab_txt_specials(t, "[CLS]", "[SEP]", "[UNK]");
    if (t->unk_id < 0 || t->single.n_items == 0) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "vocab.txt: [UNK], [CLS] or [SEP] missing");
        goto fail;
    }
    const char *defaults[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) {
        int32_t id = bert_tokenizer_token_id(t, defaults[i], strlen(defaults[i]));
        if (id >= 0) add_split(t, id, 16);
    }
    st = scratch_alloc(t, err);
    if (st) goto fail;
    *out = t;
    return BERT_STATUS_OK;
fail:
    bert_tokenizer_free(t);
    return st;
}

// A special-token entry of tokenizer_config.json: "[CLS]" or {"content": "[CLS]", ...}.
static const json_value *token_name(const json_value *v) {
    if (v && v->type == JSON_OBJECT) v = bert_json_get(v, "content");
    return v && v->type == JSON_STRING ? v : NULL;
}

bert_status bert_tokenizer_apply_config(bert_tokenizer *t, const char *json, size_t n, char *err) {
    char local[BERT_ERROR_SIZE];
    if (!err) err = local;
    if (!t || (!json && n)) return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenizer: NULL argument");
    json_doc doc;
    int r = bert_json_parse(&doc, json, n);
    if (r == -2) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "tokenizer_config.json: out of memory while parsing");
    if (r != 0) return bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer_config.json: %s", doc.error);
    const json_value *root = doc.root;
    bert_status st = BERT_STATUS_OK;
    if (root->type != JSON_OBJECT) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "tokenizer_config.json: not an object");
        goto done;
    }
    if (!t->normalizer_from_json) {
        int b;
        if (get_bool(bert_json_get(root, "do_lower_case"), &b) > 0) t->lowercase = b;
        if (get_bool(bert_json_get(root, "tokenize_chinese_chars"), &b) > 0) t->handle_chinese = b;
        const json_value *sa = bert_json_get(root, "strip_accents");
        if (sa) {
            if (sa->type == JSON_NULL) t->strip_accents = -1;
            else if (get_bool(sa, &b) > 0) t->strip_accents = b;
        }
    }
    int32_t ml;
    const json_value *mml = bert_json_get(root, "model_max_length");
    // Huge sentinels (int(1e30) "no limit") do not fit int32 and are ignored.
    if (mml && bert_json_as_i32(mml, &ml) == 0 && ml > 0 && ml <= 1000000) t->max_length_config = ml;
    if (!t->from_json) {
        const json_value *cls = token_name(bert_json_get(root, "cls_token"));
        const json_value *sep = token_name(bert_json_get(root, "sep_token"));
        const json_value *unk = token_name(bert_json_get(root, "unk_token"));
        vocab_txt_specials(t, cls ? cls->str : "[CLS]", sep ? sep->str : "[SEP]", unk ? unk->str : "[UNK]");
        const char *names[5] = {"cls_token", "sep_token", "unk_token", "pad_token", "mask_token"};
        for (int i = 0; i < 5; i++) {
            const json_value *v = token_name(bert_json_get(root, names[i]));
            int32_t id = v ? bert_tokenizer_token_id(t, v->str, v->len) : -1;
            if (id >= 0) add_split(t, id, 16);
        }
        // added_tokens_decoder: {"id": {"content": ...}}; tokens present in vocab.txt are split out.
        const json_value *atd = bert_json_get(root, "added_tokens_decoder");
        for (const json_value *v = atd && atd->type == JSON_OBJECT ? atd->child : NULL; v; v = v->next) {
            const json_value *c = token_name(v);
            int32_t id = c ? bert_tokenizer_token_id(t, c->str, c->len) : -1;
            if (id >= 0) add_split(t, id, 16);
        }
    }
done:
    bert_json_free(&doc);
    return st;
}

uint64_t bert_tokenizer_memory(const bert_tokenizer *t) { return t ? t->mem : 0; }
int32_t bert_tokenizer_vocab_size(const bert_tokenizer *t) { return t ? t->n_vocab : 0; }

int32_t bert_tokenizer_token_id(const bert_tokenizer *t, const char *token, size_t n) {
    if (!t || (!token && n)) return -1;
    return vocab_find(t, 0, (const uint8_t *)token, n);
}

const char *bert_tokenizer_token(const bert_tokenizer *t, int32_t id) {
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    return t->pool + t->off[id];
}

int32_t bert_tokenizer_max_length(const bert_tokenizer *t) {
    if (!t) return 0;
    return t->max_length_config ? t->max_length_config : t->max_length_trunc;
}

// --------------------------------------------------------------------------------------------
// Encoding

typedef struct {
    const bert_tokenizer *t;
    const uint8_t *s;
    int32_t *ids, *offs; // destination (may be NULL), up to limit tokens
    int32_t limit;
    int64_t count;       // tokens produced, written or not
    // current word
    int32_t wlen;        // characters stored in wbuf (<= max_chars + 1)
    int64_t wchars;      // characters in the word
    int32_t wb, we;      // its byte range
    int32_t run_start;   // start of the current canonical-ordering run in wbuf
    int run_active;      // a non-Mn character with a non-zero combining class is in that run
    // normalized added-token matcher: queue ring (t->queue), or collecting a normalized string
    int32_t qhead, qlen;
    uint32_t *collect;
    int32_t n_collect, cap_collect;
    int collecting;
} enc_ctx;

static inline void emit(enc_ctx *c, int32_t id, int32_t b, int32_t e) {
    if (c->count < c->limit) {
        if (c->ids) c->ids[c->count] = id;
        if (c->offs) {
            c->offs[2 * c->count] = b;
            c->offs[2 * c->count + 1] = e;
        }
    }
    c->count++;
}

// WordPiece over the buffered word: greedy longest match first; [UNK] for the whole word if any
// position has no match.
static void wordpiece(enc_ctx *c) {
    const bert_tokenizer *t = c->t;
    int32_t n = c->wlen;
    uint32_t *ci = t->cidx;
    uint8_t *u = t->ubuf;
    uint32_t nb = 0;
    for (int32_t i = 0; i < n; i++) {
        ci[i] = nb;
        nb += (uint32_t)bert_utf8_put(t->wbuf[i].cp & 0xFFFFFF, u + nb);
    }
    ci[n] = nb;
    int64_t saved = c->count;
    int32_t start = 0;
    uint32_t *hc = t->hcache;
    while (start < n) {
        uint32_t pl = start > 0 ? (uint32_t)t->prefix_len : 0;
        // Longest candidate that is still a prefix of some token (per the filter), then back off
        // to the longest that is a token: greedy longest-match-first.
        uint32_t h = start > 0 ? t->prefix_hash : HASH_SEED;
        int32_t end = start, id = -1;
        for (int32_t e = start; e < n; e++) {
            if (ci[e + 1] - ci[start] + pl > t->max_token_bytes) break;
            h = hash_bytes(h, u + ci[e], ci[e + 1] - ci[e]);
            if (!prefix_bit(t, h)) break;
            hc[e + 1] = h;
            end = e + 1;
        }
        for (; end > start; end--) {
            id = vocab_probe(t, hc[end], start > 0, u + ci[start], ci[end] - ci[start]);
            if (id >= 0) break;
        }
        if (id < 0) {
            c->count = saved;
            emit(c, t->unk_id, c->wb, c->we);
            return;
        }
        int32_t b = t->wbuf[start].b, e = t->wbuf[start].e;
        for (int32_t i = start + 1; i < end; i++) { // reordering may move characters of one source char
            if (t->wbuf[i].b < b) b = t->wbuf[i].b;
            if (t->wbuf[i].e > e) e = t->wbuf[i].e;
        }
        emit(c, id, b, e);
        start = end;
    }
}

static void end_word(enc_ctx *c) {
    if (c->wchars == 0) return;
    if (c->wchars > c->t->max_chars) emit(c, c->t->unk_id, c->wb, c->we);
    else wordpiece(c);
    c->wchars = 0;
    c->wlen = 0;
    c->run_start = 0;
    c->run_active = 0;
}

// Appends a word character; ccc != 0 only for non-Mn characters with a combining class (strip mode),
// which are put in canonical order within their run (stable insertion).
static inline void word_add(enc_ctx *c, uint32_t cp, int32_t ccc, int32_t b, int32_t e) {
    const bert_tokenizer *t = c->t;
    if (c->wchars == 0) c->wb = b;
    c->we = e;
    c->wchars++;
    if (c->wlen > t->max_chars) return; // the word is [UNK] already
    tok_char *w = t->wbuf;
    int32_t i = c->wlen++;
    if (ccc == 0) {
        c->run_start = c->wlen;
        c->run_active = 0;
    } else {
        c->run_active = 1;
        while (i > c->run_start && (int32_t)(w[i - 1].cp >> 24) > ccc) {
            w[i] = w[i - 1];
            i--;
        }
    }
    w[i].cp = cp | ((uint32_t)ccc << 24);
    w[i].b = b;
    w[i].e = e;
}

// Pre-tokenizer step for one normalized character.
static inline void feed(enc_ctx *c, uint32_t cp, unsigned p, int32_t ccc, int32_t b, int32_t e) {
    if (p & BERT_UC_SPACE) {
        end_word(c);
    } else if (p & BERT_UC_PUNCT) {
        end_word(c);
        word_add(c, cp, 0, b, e);
        end_word(c);
    } else {
        word_add(c, cp, ccc, b, e);
    }
}

// One matcher step at the head of the queue: the longest normalized added token there becomes its
// id (ending the current word), else the head character goes on to the pre-tokenizer.
static void norm_step(enc_ctx *c) {
    const bert_tokenizer *t = c->t;
    int32_t cap = t->max_norm_len, best = -1;
    uint32_t best_len = 0;
    for (int32_t k = 0; k < t->n_norms; k++) {
        const tok_norm *nm = &t->norms[k];
        if (nm->len <= best_len || nm->len > (uint32_t)c->qlen) continue;
        uint32_t i = 0;
        while (i < nm->len && t->queue[(c->qhead + (int32_t)i) % cap].cp == t->norm_cps[nm->off + i]) i++;
        if (i == nm->len) {
            best = k;
            best_len = nm->len;
        }
    }
    const tok_qchar *q = &t->queue[c->qhead];
    if (best >= 0) {
        end_word(c);
        emit(c, t->norms[best].id, q->b, t->queue[(c->qhead + (int32_t)best_len - 1) % cap].e);
    } else {
        feed(c, q->cp, q->p, q->ccc, q->b, q->e);
        best_len = 1;
    }
    c->qhead = (c->qhead + (int32_t)best_len) % cap;
    c->qlen -= (int32_t)best_len;
}

// A normalized character when normalized added tokens exist (or while collecting a normalized
// string): clean_text has turned whitespace into ' ' in the text transformers.js matches in.
// (Canonical reordering runs are tracked at queue entry: exact unless a Mc with a combining
// class meets a normalized added token within one token length.)
static void norm_slow(enc_ctx *c, uint32_t cp, unsigned p, int32_t ccc, int32_t b, int32_t e) {
    const bert_tokenizer *t = c->t;
    if (t->clean_text && (p & BERT_UC_SPACE) && cp != ' ') {
        cp = ' ';
        p = bert_uc_props(' ');
    }
    if (c->collecting) {
        if (c->n_collect < c->cap_collect) c->collect[c->n_collect] = cp;
        c->n_collect++;
        return;
    }
    int32_t cap = t->max_norm_len;
    tok_qchar *q = &t->queue[(c->qhead + c->qlen) % cap];
    q->cp = cp;
    q->p = p;
    q->ccc = ccc;
    q->b = b;
    q->e = e;
    c->qlen++;
    while (c->qlen >= cap) norm_step(c);
}

// Every normalized character goes through here on its way to the pre-tokenizer.
static inline void emit_norm(enc_ctx *c, uint32_t cp, unsigned p, int32_t ccc, int32_t b, int32_t e) {
    if (c->t->n_norms == 0 && !c->collecting) feed(c, cp, p, ccc, b, e);
    else norm_slow(c, cp, p, ccc, b, e);
}

// The spaces transformers.js puts around CJK ideographs.
static inline void cjk_space(enc_ctx *c, int32_t b, int32_t e) {
    if (c->t->n_norms == 0 && !c->collecting) end_word(c);
    else norm_slow(c, ' ', bert_uc_props(' '), 0, b, e);
}

// Accent stripping after NFD: Mn dropped (a zero-class Mn still ends a reordering run).
static inline void feed_stripped(enc_ctx *c, uint32_t cp, unsigned p, int32_t b, int32_t e) {
    if (p & BERT_UC_MN) {
        if (c->run_active && !bert_uc_mn_has_ccc(cp)) {
            c->run_start = c->wlen;
            c->run_active = 0;
        }
        return;
    }
    int32_t ccc = (cp >= 0x1715 && cp <= 0x1D172) ? bert_uc_ccc_nonmn(cp) : 0;
    emit_norm(c, cp, p, ccc, b, e);
}

static inline int is_cjk_bmp(uint32_t cp) {
    // transformers.js tests UTF-16 code units, so only the BMP blocks of Hugging Face's list apply.
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF);
}

static inline int dropped_by_cleaner(uint32_t cp, unsigned p) {
    return cp == 0 || cp == 0xFFFD || ((p & BERT_UC_CONTROL) && cp != '\t' && cp != '\n' && cp != '\r');
}

// Final_Sigma, forward half: is the next character of the (cleaned) text, after case-ignorable
// ones, cased?
static int followed_by_cased(const bert_tokenizer *t, const uint8_t *s, size_t pos, size_t end) {
    while (pos < end) {
        uint32_t cp = bert_utf8_next(s, end, &pos);
        unsigned p = bert_uc_props(cp);
        if (t->clean_text && dropped_by_cleaner(cp, p)) continue;
        if (p & BERT_UC_CASE_IGN) continue;
        return (p & BERT_UC_CASED) != 0;
    }
    return 0;
}

// Normalizes and tokenizes s[b0, b1): one section between added tokens.
static void encode_section(enc_ctx *c, size_t b0, size_t b1) {
    const bert_tokenizer *t = c->t;
    const uint8_t *s = c->s;
    const int lower = t->lowercase;
    const int strip = t->strip_accents < 0 ? t->lowercase : t->strip_accents;
    int prev_cased = 0; // Final_Sigma, backward half
    size_t pos = b0;
    while (pos < b1) {
        int32_t cb = (int32_t)pos;
        uint32_t cp;
        if (s[pos] < 0x80) { // ASCII: no decomposition, no marks, no CJK
            cp = s[pos++];
            unsigned p = bert_uc_props(cp);
            if (t->clean_text && (p & BERT_UC_CONTROL) && cp != '\t' && cp != '\n' && cp != '\r') continue;
            if (lower) {
                if (cp - 'A' < 26u) cp += 32;
                if (!(p & BERT_UC_CASE_IGN)) prev_cased = (p & BERT_UC_CASED) != 0;
            }
            emit_norm(c, cp, p, 0, cb, (int32_t)pos);
            continue;
        }
        cp = bert_utf8_next(s, b1, &pos);
        int32_t ce = (int32_t)pos;
        unsigned p = bert_uc_props(cp);
        if (t->clean_text && dropped_by_cleaner(cp, p)) continue;
        int cjk = t->handle_chinese && is_cjk_bmp(cp);
        if (cjk) cjk_space(c, cb, ce);
        uint32_t lc[3];
        int nl = 1;
        lc[0] = cp;
        if (lower) {
            if (cp == 0x3A3) {
                lc[0] = prev_cased && !followed_by_cased(t, s, pos, b1) ? 0x3C2 : 0x3C3;
            } else if (p & BERT_UC_LOWER) {
                nl = bert_uc_lower(cp, lc);
            } else if (cp - 'A' < 26u) {
                lc[0] = cp + 32;
            }
            if (!(p & BERT_UC_CASE_IGN)) prev_cased = (p & BERT_UC_CASED) != 0;
        }
        for (int k = 0; k < nl; k++) {
            uint32_t x = lc[k];
            if (strip) {
                unsigned px = x == cp ? p : bert_uc_props(x);
                if (px & BERT_UC_DECOMP) {
                    uint32_t d[4];
                    int nd = bert_uc_decompose(x, d);
                    for (int j = 0; j < nd; j++) feed_stripped(c, d[j], bert_uc_props(d[j]), cb, ce);
                } else {
                    feed_stripped(c, x, px, cb, ce);
                }
            } else {
                emit_norm(c, x, x == cp ? p : bert_uc_props(x), 0, cb, ce);
            }
        }
        if (cjk) cjk_space(c, cb, ce);
    }
    while (c->qlen > 0) norm_step(c);
    end_word(c);
}

static int32_t normalize_string(const bert_tokenizer *t, const char *s, size_t n, uint32_t *out, int32_t cap) {
    enc_ctx c;
    memset(&c, 0, sizeof c);
    c.t = t;
    c.s = (const uint8_t *)s;
    c.collecting = 1;
    c.collect = out;
    c.cap_collect = out ? cap : 0;
    encode_section(&c, 0, n);
    return c.n_collect;
}

// Tokenizes one sequence: added tokens are split out of the raw bytes (longest match at each
// position), the text between them is normalized and tokenized section by section.
static int64_t encode_seq(const bert_tokenizer *t, const char *text, size_t n, int32_t limit, int32_t *ids,
                          int32_t *offs) {
    enc_ctx c;
    memset(&c, 0, sizeof c);
    c.t = t;
    c.s = (const uint8_t *)text;
    c.ids = ids;
    c.offs = offs;
    c.limit = limit;
    size_t sec = 0;
    if (t->n_splits > 0) {
        for (size_t i = 0; i < n;) {
            uint8_t b = c.s[i];
            if (!(t->split_first[b >> 3] & (1u << (b & 7)))) {
                i++;
                continue;
            }
            int32_t best = -1;
            uint32_t best_len = 0;
            for (int32_t k = 0; k < t->n_splits; k++) {
                const tok_split *sp = &t->splits[k];
                if (sp->len > best_len && sp->len <= n - i && memcmp(t->pool + sp->off, c.s + i, sp->len) == 0) {
                    best = k;
                    best_len = sp->len;
                }
            }
            if (best < 0) {
                i++;
                continue;
            }
            if (i > sec) encode_section(&c, sec, i);
            emit(&c, t->splits[best].id, (int32_t)i, (int32_t)(i + best_len));
            i += best_len;
            sec = i;
        }
    }
    if (n > sec) encode_section(&c, sec, n);
    return c.count;
}

bert_status bert_tokenizer_encode(const bert_tokenizer *t, const char *a, size_t n_a, const char *b,
                                  size_t n_b, int32_t max_tokens, int32_t *ids, int32_t *type_ids,
                                  int32_t *offsets, int32_t cap, bert_encoding_info *info, char *err) {
    char local[BERT_ERROR_SIZE];
    if (!err) err = local;
    if (info) info->n_tokens = info->n_untruncated = 0;
    if (!t || (!a && n_a) || cap < 0 || (cap > 0 && !ids))
        return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenize: bad arguments");
    if (!a) a = "";
    if (n_a > TOK_MAX_TEXT || n_b > TOK_MAX_TEXT || n_a + n_b > TOK_MAX_TEXT)
        return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenize: text longer than %d bytes", TOK_MAX_TEXT);
    const tok_template *tp = b ? &t->pair : &t->single;
    int64_t max = max_tokens > 0 ? max_tokens : INT64_MAX;
    if (max < tp->n_added)
        return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenize: max_tokens %d is less than the %d special tokens",
                         (int)max_tokens, (int)tp->n_added);
    int64_t room = max - tp->n_added; // content tokens allowed
    int64_t len[2] = {0, 0}, keep[2] = {0, 0};
    const char *txt[2] = {a, b ? b : ""};
    size_t ntxt[2] = {n_a, b ? n_b : 0};
    int32_t start[2] = {0, 0}; // where each sequence starts in the output
    int32_t seq_cap = cap;     // content tokens that fit the buffers

    // Pass 1 (pairs, or when the buffers may be too small): untruncated lengths.
    if (b) {
        len[0] = encode_seq(t, txt[0], ntxt[0], 0, NULL, NULL);
        len[1] = encode_seq(t, txt[1], ntxt[1], 0, NULL, NULL);
        keep[0] = len[0];
        keep[1] = len[1];
        if (len[0] + len[1] > room) { // longest-first, as Hugging Face tokenizers' truncate_encodings
            int64_t n1 = len[0], n2 = len[1];
            int swap = n1 > n2;
            if (swap) { int64_t x = n1; n1 = n2; n2 = x; }
            n2 = n1 > room ? n1 : (n1 > room - n1 ? n1 : room - n1);
            if (n1 + n2 > room) {
                n1 = room / 2;
                n2 = n1 + room % 2;
            }
            if (swap) { int64_t x = n1; n1 = n2; n2 = x; }
            if (keep[0] > n1) keep[0] = n1;
            if (keep[1] > n2) keep[1] = n2;
        }
    }
    // Layout of the output from the template.
    int64_t pos = 0;
    for (int32_t i = 0; i < tp->n_items; i++) {
        const tok_item *it = &tp->items[i];
        if (it->n_ids) pos += it->n_ids;
        else {
            start[it->seq] = (int32_t)(pos < INT32_MAX ? pos : INT32_MAX);
            pos += b ? keep[it->seq] : 0;
        }
    }
    if (!b) {
        // Single: one pass writes the kept prefix (as far as the buffer goes) and counts the rest.
        int32_t lim = seq_cap - start[0];
        if (lim < 0) lim = 0;
        if (lim > room) lim = (int32_t)(room < INT32_MAX ? room : INT32_MAX);
        len[0] = encode_seq(t, txt[0], ntxt[0], lim, ids ? ids + start[0] : NULL, offsets ? offsets + 2 * start[0] : NULL);
        keep[0] = len[0] < room ? len[0] : room;
        pos += keep[0];
    }
    int64_t total = pos, untrunc = len[0] + len[1] + tp->n_added;
    if (info) {
        info->n_tokens = (int32_t)(total < INT32_MAX ? total : INT32_MAX);
        info->n_untruncated = (int32_t)(untrunc < INT32_MAX ? untrunc : INT32_MAX);
    }
    if (!ids && cap == 0) return BERT_STATUS_OK; // the counts alone
    if (total > cap)
        return bert_fail(err, BERT_STATUS_INVALID_ARGUMENT, "tokenize: %lld tokens do not fit the buffer of %d",
                         (long long)total, (int)cap);
    if (b) { // pass 2: write the kept tokens of both sequences
        for (int k = 0; k < 2; k++)
            encode_seq(t, txt[k], ntxt[k], (int32_t)keep[k], ids + start[k], offsets ? offsets + 2 * start[k] : NULL);
    }
    // Specials and type ids.
    pos = 0;
    for (int32_t i = 0; i < tp->n_items; i++) {
        const tok_item *it = &tp->items[i];
        int64_t n = it->n_ids ? it->n_ids : keep[it->seq];
        for (int64_t j = 0; j < n; j++, pos++) {
            if (it->n_ids) {
                ids[pos] = it->ids[j];
                if (offsets) offsets[2 * pos] = offsets[2 * pos + 1] = 0;
            }
            if (type_ids) type_ids[pos] = it->type_id;
        }
    }
    return BERT_STATUS_OK;
}
