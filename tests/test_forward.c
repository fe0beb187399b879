// test_forward.c - the forward pass's contract on the tiny fixture: ragged batches equal
// one-sequence calls bit for bit, pooling modes (mean/cls/max/none) and normalization agree with
// the per-token states, the workspace size is what the forward checks, and bad arguments fail
// with a status and a message instead of crashing.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert.h"
#include "forward.h"

#include "test_util.h"

static bert_model *load(const char *dir, bert_type t, int32_t pooling, int32_t normalize, int32_t max_tokens,
                        int32_t max_batch) {
    bert_load_params p = bert_load_default_params();
    p.wtype = t;
    p.embd_type = t;
    p.pooling = pooling;
    p.normalize = normalize;
    p.max_tokens = max_tokens;
    p.max_batch = max_batch;
    bert_loader *ld;
    if (bert_loader_init(&ld, &p)) return NULL;
    const char *names[] = {"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t n;
        char *d = read_file(path, &n);
        if (!d) continue;
        bert_loader_add_file(ld, names[i], d, n);
        free(d);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    size_t n;
    char *w = read_file(path, &n);
    bert_model *m = NULL;
    if (w && bert_loader_write(ld, w, n) == BERT_STATUS_OK) bert_loader_finish(ld, &m);
    if (!m) printf("load failed: %s\n", bert_loader_error(ld));
    free(w);
    bert_loader_free(ld);
    return m;
}

// A deterministic pseudo-random token stream (ids inside the vocabulary, specials at the ends).
static void make_ids(int32_t *ids, int n, uint32_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        ids[i] = 1000 + (int32_t)((seed >> 8) % 28000);
    }
    ids[0] = 101;
    ids[n - 1] = 102;
}

static void test_ragged(const char *dir, bert_type t) {
    bert_model *m = load(dir, t, BERT_POOLING_NONE, 0, 128, 6);
    CHECK(m != NULL, "load %s", bert_type_name(t));
    if (!m) return;
    const int E = bert_model_dim(m);
    // a single token, a full-length row, and 320 tokens in all: the FFN runs in two chunks
    const int32_t lens[6] = {1, 7, 128, 3, 121, 60};
    int32_t ids[6 * 128], tids[6 * 128];
    int total = 0;
    for (int s = 0; s < 6; s++) {
        make_ids(ids + total, lens[s], 77u + s);
        for (int i = 0; i < lens[s]; i++) tids[total + i] = i > lens[s] / 2;
        total += lens[s];
    }
    float *batch = malloc(sizeof(float) * total * E), *single = malloc(sizeof(float) * 128 * E);
    bert_status st = bert_encode(m, ids, tids, lens, 6, batch, (size_t)total * E);
    CHECK(st == BERT_STATUS_OK, "ragged encode: %s", bert_model_error(m));
    int off = 0, differ = 0, nonfinite = 0;
    for (int s = 0; s < 6 && !st; s++) {
        st = bert_encode(m, ids + off, tids + off, &lens[s], 1, single, (size_t)128 * E);
        CHECK(st == BERT_STATUS_OK, "single encode: %s", bert_model_error(m));
        differ += memcmp(single, batch + (size_t)off * E, sizeof(float) * lens[s] * E) != 0;
        for (int i = 0; i < lens[s] * E; i++) nonfinite += !isfinite(single[i]);
        off += lens[s];
    }
    printf("%-5s ragged batch of 6 (lengths 1..128, 320 tokens) vs one at a time: %d sequences differ\n", bert_type_name(t), differ);
    CHECK(differ == 0, "%s: ragged batch differs from single-sequence calls in %d sequences", bert_type_name(t), differ);
    CHECK(nonfinite == 0, "non-finite hidden states");

    // pooling modes from the per-token states
    bert_model *pm[3] = {load(dir, t, BERT_POOLING_MEAN, 1, 128, 6), load(dir, t, BERT_POOLING_CLS, 0, 128, 6),
                         load(dir, t, BERT_POOLING_MAX, 0, 128, 6)};
    float pooled[6 * 64];
    for (int k = 0; k < 3; k++) {
        CHECK(pm[k] != NULL, "load pooling %d", k);
        if (!pm[k]) continue;
        st = bert_encode(pm[k], ids, tids, lens, 6, pooled, sizeof pooled / sizeof *pooled);
        CHECK(st == BERT_STATUS_OK, "pooled encode: %s", bert_model_error(pm[k]));
        double worst = 0;
        off = 0;
        for (int s = 0; s < 6; s++) {
            double want[128], norm = 0;
            for (int e = 0; e < E; e++) {
                double acc = k == 2 ? -INFINITY : 0;
                for (int i = 0; i < lens[s]; i++) {
                    const double v = batch[(size_t)(off + i) * E + e];
                    if (k == 0) acc += v / lens[s];
                    else if (k == 1) acc = i == 0 ? v : acc;
                    else acc = v > acc ? v : acc;
                }
                want[e] = acc;
                norm += acc * acc;
            }
            for (int e = 0; e < E; e++) {
                const double w = k == 0 ? want[e] / sqrt(norm) : want[e];
                const double d = fabs(pooled[s * E + e] - w);
                if (d > worst) worst = d;
            }
            off += lens[s];
        }
        printf("%-5s pooling %s: max |diff| vs per-token states %.3g\n", bert_type_name(t),
               k == 0 ? "mean+normalize" : k == 1 ? "cls" : "max", worst);
        // cls: the [CLS]-only last layer does each row's arithmetic as the full pass does (bit-identical)
        CHECK(k == 1 ? worst == 0 : worst <= 1e-6, "pooling mode %d differs by %.3g", k, worst);
        bert_model_free(pm[k]);
    }
    free(batch);
    free(single);
    bert_model_free(m);
}

static void test_bad_args(const char *dir) {
    bert_model *m = load(dir, BERT_TYPE_Q8_0, BERT_POOLING_DEFAULT, -1, 16, 2);
    CHECK(m != NULL, "load");
    if (!m) return;
    const int E = bert_model_dim(m);
    int32_t ids[40];
    make_ids(ids, 40, 5);
    float out[4 * 64];
    int32_t lens[3] = {5, 5, 5};
    struct {
        const char *what;
        const int32_t *ids, *tids, *lens;
        int32_t n_seq;
        float *out;
        size_t cap;
    } cases[] = {
        {"NULL ids", NULL, NULL, lens, 1, out, 256},
        {"NULL lens", ids, NULL, NULL, 1, out, 256},
        {"NULL out", ids, NULL, lens, 1, NULL, 256},
        {"n_seq 0", ids, NULL, lens, 0, out, 256},
        {"n_seq > max_batch", ids, NULL, lens, 3, out, 256},
        {"out too small", ids, NULL, lens, 2, out, (size_t)2 * E - 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bert_status st = bert_encode(m, cases[i].ids, cases[i].tids, cases[i].lens, cases[i].n_seq, cases[i].out, cases[i].cap);
        CHECK(st == BERT_STATUS_INVALID_ARGUMENT && bert_model_error(m)[0], "%s: status %s", cases[i].what,
              bert_status_name(st));
    }
    int32_t bad_len[2] = {5, 17}; // over max_tokens 16
    CHECK(bert_encode(m, ids, NULL, bad_len, 2, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "too long a sequence");
    int32_t zero_len[1] = {0};
    CHECK(bert_encode(m, ids, NULL, zero_len, 1, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "empty sequence");
    int32_t neg_len[2] = {5, -3};
    CHECK(bert_encode(m, ids, NULL, neg_len, 2, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "negative length");
    int32_t bad_ids[5] = {101, 30522, 5, 6, 102};
    CHECK(bert_encode(m, bad_ids, NULL, lens, 1, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "id == n_vocab");
    bad_ids[1] = -1;
    CHECK(bert_encode(m, bad_ids, NULL, lens, 1, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "negative id");
    int32_t bad_tids[5] = {0, 0, 2, 0, 0};
    CHECK(bert_encode(m, ids, bad_tids, lens, 1, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "type id 2 of 2");
    printf("bad arguments: last message \"%s\"\n", bert_model_error(m));
    CHECK(bert_classify(m, ids, NULL, lens, 1, out, 256) == BERT_STATUS_UNSUPPORTED, "classify without a head");
    CHECK(bert_encode(NULL, ids, NULL, lens, 1, out, 256) == BERT_STATUS_INVALID_ARGUMENT, "NULL model");
    // still usable after the failures
    CHECK(bert_encode(m, ids, NULL, lens, 2, out, 256) == BERT_STATUS_OK, "encode after errors: %s", bert_model_error(m));
    bert_model_free(m);
}

static void test_workspace(void) {
    bert_hparams hp;
    memset(&hp, 0, sizeof hp);
    hp.n_embd = 384;
    hp.n_head = 12;
    hp.n_ff = 1536;
    hp.n_layer = 6;
    hp.max_tokens = 256;
    hp.max_batch = 8;
    const uint64_t w1 = bert_forward_workspace_size(&hp, 1), w4 = bert_forward_workspace_size(&hp, 4);
    // at least the hidden state, context and qkv buffers for all tokens and the FFN intermediate
    // for one chunk of 256 tokens; per-thread scratch grows with threads
    const uint64_t T = 256 * 8, floor = T * (384 + 384 + 3 * 384) * 4 + 256 * 1536 * 4;
    printf("workspace MiniLM 256x8: %.1f MiB (1 thread), %.1f MiB (4 threads)\n", w1 / 1048576.0, w4 / 1048576.0);
    CHECK(w1 >= floor && w1 < floor + floor / 4, "workspace %llu not near %llu", (unsigned long long)w1,
          (unsigned long long)floor);
    CHECK(w4 > w1, "more threads need more scratch");
    hp.max_batch = 0;
    CHECK(bert_forward_workspace_size(&hp, 1) == 0, "invalid hparams give 0");
    hp.max_batch = 1 << 30;
    hp.max_tokens = 1 << 30;
    CHECK(bert_forward_workspace_size(&hp, 1) == 0, "overflowing plan gives 0");
}

int main(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tiny", BERT_FIXTURES);
    test_ragged(dir, BERT_TYPE_F32);
    test_ragged(dir, BERT_TYPE_Q8_0);
    test_ragged(dir, BERT_TYPE_Q4_0);
    test_bad_args(dir);
    test_workspace();
    if (failures) {
        printf("test_forward: %d failures\n", failures);
        return 1;
    }
    printf("test_forward: all passed\n");
    return 0;
}
