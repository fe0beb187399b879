// test_loader.c - the streaming loader on every chunk size, dtype and tensor-name variant.
//
// Variants are generated at test time (tests/gen/gen_model.py, tiny shape) into BERT_TMP/loader:
// F32/F16/BF16 x {bert. prefix, no prefix, old gamma/beta names, shuffled order, MLM head,
// cross-encoder}. For each variant:
//   - the whole-file load is checked value by value against the file, read independently here
//     (q/k/v fused in order, f32 storage exact, q8_0 storage == bert_quantize_row of the values);
//   - loads in chunks of 1..64 bytes, some primes and the whole file give bit-identical weights;
//   - all variants of one dtype give bit-identical weights (name variants change nothing).
#include <math.h>

#include "common.h"
#include "json.h"
#include "quant.h"
#include "test_loader_util.h"

static const struct {
    const char *name, *args;
} variants[] = {
    {"prefix", ""},          {"noprefix", "--no-prefix"}, {"old", "--old-names"},
    {"shuffle", "--shuffle"}, {"mlm", "--mlm-head"},       {"cross", "--cross-encoder"},
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))
static const char *dtypes[] = {"F32", "F16", "BF16"};

static void gen(const char *dir, const char *dtype, const char *args) {
    char path[1200], cmd[2400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (file_exists(path)) return;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s --shape tiny --dtype %s %s --quiet --out %s", BERT_GEN, dtype,
             args, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "generator failed: %s\n", cmd);
        exit(2);
    }
}

// --- independent reading of the file: name -> values ---

static float elem(const unsigned char *p, const char *dtype, size_t i) {
    if (strcmp(dtype, "F32") == 0) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
    return strcmp(dtype, "F16") == 0 ? bert_f16_to_f32(h) : bert_bf16_to_f32(h);
}

// Model tensor and first row for a file tensor name, or NULL when the loader must skip it.
static const bert_tensor *target(const bert_model *m, const char *name, int *row0) {
    char c[256];
    if (strncmp(name, "bert.", 5) == 0) name += 5;
    snprintf(c, sizeof c, "%s", name);
    size_t n = strlen(c);
    if (n > 6 && strcmp(c + n - 6, ".gamma") == 0) strcpy(c + n - 6, ".weight");
    if (n > 5 && strcmp(c + n - 5, ".beta") == 0) strcpy(c + n - 5, ".bias");
    *row0 = 0;
    int E = m->hp.n_embd;
    if (!strcmp(c, "embeddings.word_embeddings.weight")) return &m->tok_embd;
    if (!strcmp(c, "embeddings.position_embeddings.weight")) return &m->pos_embd;
    if (!strcmp(c, "embeddings.token_type_embeddings.weight")) return &m->type_embd;
    if (!strcmp(c, "embeddings.LayerNorm.weight")) return &m->embd_ln_w;
    if (!strcmp(c, "embeddings.LayerNorm.bias")) return &m->embd_ln_b;
    if (m->hp.n_labels > 0) {
        if (!strcmp(c, "classifier.weight")) return &m->cls_w;
        if (!strcmp(c, "classifier.bias")) return &m->cls_b;
        if (!strcmp(c, "pooler.dense.weight")) return &m->pool_w;
        if (!strcmp(c, "pooler.dense.bias")) return &m->pool_b;
    }
    int layer, k;
    char rest[200];
    if (sscanf(c, "encoder.layer.%d.%199s", &layer, rest) != 2 || layer < 0 || layer >= m->hp.n_layer) return NULL;
    const bert_layer *L = &m->layers[layer];
    static const char *qkv[] = {"query", "key", "value"};
    for (k = 0; k < 3; k++) {
        char w[64];
        snprintf(w, sizeof w, "attention.self.%s.weight", qkv[k]);
        if (!strcmp(rest, w)) return *row0 = k * E, &L->wqkv;
        snprintf(w, sizeof w, "attention.self.%s.bias", qkv[k]);
        if (!strcmp(rest, w)) return *row0 = k * E, &L->bqkv; // 1-D: row0 counts elements
    }
    if (!strcmp(rest, "attention.output.dense.weight")) return &L->wo;
    if (!strcmp(rest, "attention.output.dense.bias")) return &L->bo;
    if (!strcmp(rest, "attention.output.LayerNorm.weight")) return &L->ln1_w;
    if (!strcmp(rest, "attention.output.LayerNorm.bias")) return &L->ln1_b;
    if (!strcmp(rest, "intermediate.dense.weight")) return &L->wi;
    if (!strcmp(rest, "intermediate.dense.bias")) return &L->bi;
    if (!strcmp(rest, "output.dense.weight")) return &L->wo2;
    if (!strcmp(rest, "output.dense.bias")) return &L->bo2;
    if (!strcmp(rest, "output.LayerNorm.weight")) return &L->ln2_w;
    if (!strcmp(rest, "output.LayerNorm.bias")) return &L->ln2_b;
    return NULL;
}

// Every stored value equals the file's value (f32 storage) or its quantization (other storage).
static void check_against_file(const bert_model *m, const tfile *w, const char *label) {
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | (unsigned char)w->data[i];
    json_doc doc;
    if (bert_json_parse(&doc, w->data + 8, (size_t)hl)) {
        fprintf(stderr, "%s: test cannot parse header\n", label);
        exit(2);
    }
    const unsigned char *data = (const unsigned char *)w->data + 8 + hl;
    int n_checked = 0, n_stored = 0;
    float *row = malloc(sizeof(float) * 40000);
    unsigned char *q = malloc(40000 * 4);
    for (const json_value *t = doc.root->child; t; t = t->next) {
        if (!strcmp(t->key, "__metadata__")) continue;
        int row0;
        const bert_tensor *dst = target(m, t->key, &row0);
        if (!dst) continue;
        n_stored++;
        const json_value *dt = bert_json_get(t, "dtype"), *sh = bert_json_get(t, "shape"), *off = bert_json_get(t, "data_offsets");
        uint64_t begin, d0 = 0, d1 = 1;
        bert_json_as_u64(bert_json_at(off, 0), &begin);
        if (sh->len == 2) bert_json_as_u64(bert_json_at(sh, 0), &d0), bert_json_as_u64(bert_json_at(sh, 1), &d1);
        else bert_json_as_u64(bert_json_at(sh, 0), &d1), d0 = 1;
        size_t es = strcmp(dt->str, "F32") == 0 ? 4 : 2;
        int bad = 0;
        for (uint64_t r = 0; r < d0 && !bad; r++) {
            for (uint64_t i = 0; i < d1; i++) row[i] = elem(data + begin + r * d1 * es, dt->str, i);
            if (dst->ne1 == 1) { // 1-D f32, row0 in elements
                bad = memcmp((const float *)dst->data + row0, row, d1 * 4) != 0;
                bad |= dst->type != BERT_TYPE_F32;
            } else {
                uint64_t rs = bert_row_size(dst->type, (int64_t)d1);
                const unsigned char *got = (const unsigned char *)dst->data + (row0 + r) * rs;
                if (dst->type == BERT_TYPE_F32) bad = memcmp(got, row, d1 * 4) != 0;
                else {
                    bert_quantize_row(dst->type, row, q, (int64_t)d1);
                    bad = memcmp(got, q, rs) != 0;
                }
            }
        }
        CHECK(!bad, "%s: tensor %s differs from the file", label, t->key);
        n_checked++;
    }
    int expect = 5 + 16 * m->hp.n_layer + (m->hp.n_labels ? 4 : 0);
    CHECK(n_checked == expect && n_stored == expect, "%s: checked %d tensors, expected %d", label, n_checked, expect);
    free(row);
    free(q);
    bert_json_free(&doc);
}

// --- allocation counting: the test links with -Wl,--wrap=malloc,... (tests/CMakeLists.txt) ---
#ifdef BERT_WRAP_MALLOC
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
static long g_allocs = 0;
void *__wrap_malloc(size_t n) { g_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { g_allocs++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { g_allocs++; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { g_allocs++; return __real_aligned_alloc(a, n); }
#define ALLOCS() g_allocs
#else
#define ALLOCS() 0L
#endif

// --- end to end: the fixtures through bert_embed_texts / bert_score_pairs ---

static int read_lines(const char *path, char ***lines) {
    static tfile f;
    if (tfile_read(path, &f)) return 0;
    int n = 0;
    *lines = malloc(sizeof(char *) * 4096);
    char *s = f.data;
    f.data[f.n] = 0;
    while (*s && n < 4096) {
        char *e = strchr(s, '\n');
        if (e) *e = 0;
        if (*s) (*lines)[n++] = s;
        if (!e) break;
        s = e + 1;
    }
    return n; // f.data stays alive for the lines (freed at exit)
}

static void end_to_end(void) {
    char **lines;
    int n = read_lines(BERT_FIXTURES "/sentences.txt", &lines);
    CHECK(n >= 10, "sentences.txt: %d lines", n);
    tmodel tm;
    tmodel_read(BERT_FIXTURES "/tiny", &tm);
    tload_result r;
    float *out[2] = {NULL, NULL};
    for (int pass = 0; pass < 2; pass++) {
        bert_load_params p = bert_load_default_params();
        p.max_batch = pass ? 1 : 8; // grouping must not change a text's vector
        bert_model *m = tload(&tm, &p, 4096, &r);
        CHECK(m != NULL, "tiny: %s", r.err);
        if (!m) break;
        int32_t dim = bert_model_dim(m);
        out[pass] = malloc(sizeof(float) * (size_t)n * (size_t)dim);
        long a0 = ALLOCS();
        bert_status st = bert_embed_texts(m, (const char *const *)lines, NULL, n, out[pass], (size_t)n * (size_t)dim);
        CHECK(st == BERT_STATUS_OK, "embed_texts: %s", bert_model_error(m));
        CHECK(ALLOCS() == a0, "embed_texts allocated %ld times", ALLOCS() - a0);
        for (int i = 0; i < n && !st; i++) {
            double ss = 0;
            int finite = 1;
            for (int j = 0; j < dim; j++) {
                float v = out[pass][(size_t)i * dim + j];
                finite &= isfinite(v);
                ss += (double)v * v;
            }
            CHECK(finite && fabs(sqrt(ss) - 1.0) < 1e-4, "text %d: finite %d norm %f", i, finite, sqrt(ss));
        }
        if (pass == 1 && out[0]) {
            float worst = 0;
            for (size_t k = 0; k < (size_t)n * (size_t)dim; k++) {
                float d = fabsf(out[0][k] - out[1][k]);
                if (d > worst) worst = d;
            }
            CHECK(worst < 1e-5f, "batch 8 vs batch 1: max diff %g", worst);
        }
        // allocation-free and bounded: too small an output buffer is refused, nothing written past it
        if (pass == 0) {
            float small[40];
            small[32] = 12345.0f;
            CHECK(bert_embed_texts(m, (const char *const *)lines, NULL, 2, small, 32) == BERT_STATUS_INVALID_ARGUMENT &&
                      small[32] == 12345.0f,
                  "short output buffer accepted");
            CHECK(bert_score_pairs(m, "q", 1, (const char *const *)lines, NULL, 1, small) == BERT_STATUS_UNSUPPORTED,
                  "score_pairs on an embedding model is UNSUPPORTED, as bert_classify");
            int32_t ids[16];
            bert_encoding_info info;
            // counts alone (ids NULL, cap 0); too small a buffer: refused, with the counts in info
            CHECK(bert_tokenize(m, "hello world", 11, 0, NULL, NULL, NULL, 0, &info) == BERT_STATUS_OK &&
                      info.n_tokens >= 3 && info.n_untruncated == info.n_tokens,
                  "count-only tokenize");
            const int32_t need = info.n_tokens;
            CHECK(bert_tokenize(m, "hello world", 11, 0, ids, NULL, NULL, 2, &info) == BERT_STATUS_INVALID_ARGUMENT &&
                      info.n_tokens == need,
                  "tokenize into 2 slots: refused, counts kept");
            CHECK(bert_tokenize(m, "hello world", 11, 0, ids, NULL, NULL, 16, &info) == BERT_STATUS_OK &&
                      info.n_tokens >= 3 && ids[0] == 101 && ids[info.n_tokens - 1] == 102,
                  "tokenize: %s", bert_model_error(m));
            CHECK(bert_tokenize_pair(m, "a", 1, "b", 1, 0, ids, NULL, NULL, 16, &info) == BERT_STATUS_OK &&
                      info.n_tokens == 5 && ids[2] == 102 && ids[4] == 102,
                  "tokenize_pair: %s", bert_model_error(m));
            // argument errors leave info zeroed, not stale ("info gets the counts in every case")
            const bert_encoding_info stale = {-7, -7};
            info = stale;
            CHECK(bert_tokenize(m, NULL, 3, 0, ids, NULL, NULL, 16, &info) == BERT_STATUS_INVALID_ARGUMENT &&
                      info.n_tokens == 0 && info.n_untruncated == 0,
                  "NULL text: info %d/%d", info.n_tokens, info.n_untruncated);
            info = stale;
            CHECK(bert_tokenize_pair(m, "a", 1, NULL, 1, 0, ids, NULL, NULL, 16, &info) == BERT_STATUS_INVALID_ARGUMENT &&
                      info.n_tokens == 0 && info.n_untruncated == 0,
                  "NULL second text: info %d/%d", info.n_tokens, info.n_untruncated);
        }
        bert_model_free(m);
    }
    free(out[0]);
    free(out[1]);
    tmodel_free(&tm);

    // cross-encoder: bert_score_pairs == first logit of bert_classify on the same tokens
    tmodel tc;
    tmodel_read(BERT_FIXTURES "/tiny-cross", &tc);
    bert_load_params p = bert_load_default_params();
    p.max_batch = 3;
    bert_model *m = tload(&tc, &p, 0, &r);
    CHECK(m != NULL, "tiny-cross: %s", r.err);
    if (m) {
        const char *docs[] = {"Berlin has 3.5 million inhabitants.", "Paris is in France.", "Cats sleep a lot.",
                              "", "The Metropolitan Museum of Art is in New York City."};
        float s[5], one;
        long a0 = ALLOCS();
        CHECK(bert_score_pairs(m, "How many people live in Berlin?", 31, docs, NULL, 5, s) == BERT_STATUS_OK,
              "score_pairs: %s", bert_model_error(m));
        CHECK(ALLOCS() == a0, "score_pairs allocated %ld times", ALLOCS() - a0);
        for (int i = 0; i < 5; i++) {
            int32_t ids[128], tt[128], len;
            bert_encoding_info info;
            bert_tokenize_pair(m, "How many people live in Berlin?", 31, docs[i], strlen(docs[i]), 0, ids, tt, NULL,
                               128, &info);
            len = info.n_tokens;
            CHECK(bert_classify(m, ids, tt, &len, 1, &one, 1) == BERT_STATUS_OK && isfinite(s[i]) &&
                      fabsf(one - s[i]) < 1e-5f,
                  "pair %d: score %f vs classify %f", i, s[i], one);
        }
    }
    bert_model_free(m);
    tmodel_free(&tc);
    free(lines);
}

int main(int argc, char **argv) {
#ifdef BERT_WRAP_MALLOC
    { // the counter really sees the library's allocations
        bert_loader *l = NULL;
        long a0 = g_allocs;
        bert_loader_init(&l, NULL);
        CHECK(g_allocs > a0, "malloc wrapping is not active");
        bert_loader_free(l);
    }
#endif
    end_to_end();
    if (argc > 1 && strcmp(argv[1], "e2e") == 0) { // only the end-to-end part
        printf("test_loader e2e: %d failures\n", g_fail);
        return g_fail ? 1 : 0;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/loader", BERT_TMP);
    mkdir(dir, 0777);
    static size_t chunks[80];
    int n_chunks = 0;
    for (size_t c = 1; c <= 64; c++) chunks[n_chunks++] = c;
    static const size_t primes[] = {97, 251, 1021, 4099, 65521, 1000003};
    for (size_t i = 0; i < sizeof primes / sizeof primes[0]; i++) chunks[n_chunks++] = primes[i];
    chunks[n_chunks++] = 0; // whole file
    int n_loads = 0;
    for (int d = 0; d < 3; d++) {
        // storage setups: q8_0 everywhere; q8_0 matrices + f32 embeddings (cheap to convert: this
        // one runs the full chunk sweep); f32 everywhere (exact values)
        static const bert_type wt[3] = {BERT_TYPE_Q8_0, BERT_TYPE_Q8_0, BERT_TYPE_F32};
        static const bert_type et[3] = {BERT_TYPE_Q8_0, BERT_TYPE_F32, BERT_TYPE_F32};
        bert_model *ref[3] = {NULL, NULL, NULL}; // first variant of this dtype
        for (int v = 0; v < N_VARIANTS; v++) {
            char vdir[1100], label[128];
            snprintf(vdir, sizeof vdir, "%s/%s-%s", dir, dtypes[d], variants[v].name);
            gen(vdir, dtypes[d], variants[v].args);
            tmodel tm;
            memset(&tm, 0, sizeof tm);
            tmodel_read(vdir, &tm);
            for (int s = 0; s < 3; s++) {
                bert_load_params p = bert_load_default_params();
                p.wtype = wt[s];
                p.embd_type = et[s];
                p.max_tokens = 32;
                p.max_batch = 2;
                tload_result r;
                snprintf(label, sizeof label, "%s-%s %s/%s", dtypes[d], variants[v].name, bert_type_name(wt[s]),
                         bert_type_name(et[s]));
                bert_model *m0 = tload(&tm, &p, 0, &r);
                n_loads++;
                CHECK(m0 != NULL, "%s: whole-file load failed: %s: %s", label, bert_status_name(r.status), r.err);
                if (!m0) continue;
                CHECK(r.written == tm.weights.n, "%s: %llu bytes consumed of %zu", label,
                      (unsigned long long)r.written, tm.weights.n);
                CHECK(m0->arena_size == m0->plan.total - m0->plan.vocab, "%s: arena %llu != plan %llu - vocab %llu",
                      label, (unsigned long long)m0->arena_size, (unsigned long long)m0->plan.total,
                      (unsigned long long)m0->plan.vocab);
                CHECK(m0->plan.file_size == tm.weights.n, "%s: plan file_size", label);
                CHECK(m0->tok_embd.type == et[s] && m0->pos_embd.type == et[s] && m0->type_embd.type == et[s] &&
                          m0->layers[0].wqkv.type == wt[s] && m0->layers[1].wo2.type == wt[s] &&
                          m0->layers[0].bqkv.type == BERT_TYPE_F32 && m0->embd_ln_w.type == BERT_TYPE_F32,
                      "%s: storage types", label);
                int cross = strcmp(variants[v].name, "cross") == 0;
                CHECK(m0->hp.n_labels == (cross ? 1 : 0), "%s: n_labels %d", label, m0->hp.n_labels);
                CHECK(m0->hp.n_layer == 2 && m0->hp.n_embd == 32 && m0->hp.n_vocab == 30522, "%s: hparams", label);
                check_against_file(m0, &tm.weights, label);
                // the sweep builds the tokenizer from vocab.txt alone (parsing tokenizer.json 1500
                // times would dominate the run; it does not touch the weight stream)
                tmodel lite = tm;
                lite.small[1].data = NULL;
                for (int c = 0; c < n_chunks; c++) {
                    if (s != 1 && chunks[c] > 3 && chunks[c] != 61 && chunks[c] != 4099) continue;
                    bert_model *m = tload(&lite, &p, chunks[c], &r);
                    n_loads++;
                    char what[64] = "";
                    CHECK(m && model_same(m, m0, 1, what, sizeof what), "%s chunk %zu: %s %s", label, chunks[c],
                          m ? "differs at" : r.err, what);
                    bert_model_free(m);
                }
                if (!ref[s]) ref[s] = m0;
                else {
                    char what[64] = "";
                    CHECK(model_same(ref[s], m0, 0, what, sizeof what), "%s: differs from %s-%s at %s", label,
                          dtypes[d], variants[0].name, what);
                    bert_model_free(m0);
                }
            }
            tmodel_free(&tm);
        }
        for (int s = 0; s < 3; s++) bert_model_free(ref[s]);
    }
    printf("test_loader: %d loads, %d failures\n", n_loads, g_fail);
    return g_fail ? 1 : 0;
}
