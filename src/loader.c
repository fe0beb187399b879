// loader.c - the push loader: small files, then model.safetensors in chunks of any size.
//
// Phases: LEN (8-byte header length) -> HEADER (JSON, buffered) -> plan + budget + one allocation
// -> DATA (tensor bytes converted row by row into their final slot) -> finish.
//
// Decisions:
// - The data area must be covered exactly (no gaps, no overlaps), as the safetensors reference
//   implementation requires; bytes past the last tensor are an error.
// - Small files may come in any order, but all before the first weight byte; config.json before
//   the weights. tokenizer.json wins over vocab.txt; tokenizer_config.json is kept (small) until
//   the header arrives and applied then, so its order does not matter.
// - Rows are converted straight from the caller's chunk when a whole row is in it; only a row
//   split across chunks is copied into the staging window (one input row + one f32 row).
// - Outlier columns (docs/loader.md): the first LayerNorm gain decides the outlier hidden dims;
//   quantized tensors that read the hidden stream keep those input columns in an f16 side table
//   (reserved in the plan for BERT_OUTL_MAX columns) and zeros in the quantized rows; rows stored
//   before the first gain keep their columns and zeros in the side table.
// - The arena holds: the bert_model struct, the layer table, the weights, the forward workspace,
//   the token I/O buffers and the staging window; every region is 64-byte aligned.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert.h"
#include "common.h"
#include "config.h"
#include "forward.h"
#include "kernels.h"
#include "model.h"
#include "quant.h"
#include "safetensors.h"
#include "threads.h"
#include "tokenizer.h"

#define ALIGN 64u
// Largest plan a host can allocate: 32-bit targets just under 2 GiB (bert.h); 64-bit hosts 1 TiB
// (sanitizer allocators abort above that instead of returning NULL).
#define ADDR_LIMIT (sizeof(void *) == 4 ? BERT_PLAN_LIMIT_32BIT : (1ull << 40))

enum { PH_LEN, PH_HEADER, PH_DATA, PH_DONE };

// Destination tensors: globals, then L_N per layer.
enum { D_TOK, D_POS, D_TYPE, D_ELN_W, D_ELN_B, D_CLS_W, D_CLS_B, D_POOL_W, D_POOL_B, D_N_GLOBAL };
enum { L_WQKV, L_BQKV, L_WO, L_BO, L_LN1_W, L_LN1_B, L_WI, L_BI, L_WO2, L_BO2, L_LN2_W, L_LN2_B, L_N };
enum { K_EMBD, K_MAT, K_VEC, K_F32MAT }; // storage class

static const char *global_names[D_N_GLOBAL] = {
    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
    "classifier.weight", "classifier.bias", "pooler.dense.weight", "pooler.dense.bias",
};

static const struct {
    const char *suffix;
    int dest, part; // part: q/k/v third of the fused wqkv/bqkv
} layer_sources[] = {
    {"attention.self.query.weight", L_WQKV, 0},     {"attention.self.query.bias", L_BQKV, 0},
    {"attention.self.key.weight", L_WQKV, 1},       {"attention.self.key.bias", L_BQKV, 1},
    {"attention.self.value.weight", L_WQKV, 2},     {"attention.self.value.bias", L_BQKV, 2},
    {"attention.output.dense.weight", L_WO, 0},     {"attention.output.dense.bias", L_BO, 0},
    {"attention.output.LayerNorm.weight", L_LN1_W, 0}, {"attention.output.LayerNorm.bias", L_LN1_B, 0},
    {"intermediate.dense.weight", L_WI, 0},         {"intermediate.dense.bias", L_BI, 0},
    {"output.dense.weight", L_WO2, 0},              {"output.dense.bias", L_BO2, 0},
    {"output.LayerNorm.weight", L_LN2_W, 0},        {"output.LayerNorm.bias", L_LN2_B, 0},
};
#define N_LAYER_SOURCES ((int)(sizeof layer_sources / sizeof layer_sources[0]))

// One tensor of the file (same index as the sorted directory).
typedef struct {
    int32_t dest;      // destination index, -1 = skipped (bytes consumed and dropped)
    int32_t part;
    int64_t ne0;       // values per row in the file
    uint64_t row_in;   // bytes per row in the file
    uint64_t row_out;  // bytes per row in the destination
    uint8_t *dst;      // first destination byte of this source
} bert_slot;

struct bert_loader {
    bert_load_params params;
    bert_status status; // sticky: once set, every call returns it
    char err[BERT_ERROR_SIZE];
    int phase;
    int have_config;
    int has_plan;
    bert_config cfg;
    bert_tokenizer *tok;
    int tok_from_json;
    // A vocab.txt that failed to parse matters only if no tokenizer.json arrives (which wins in
    // any order): its status and message wait until the tokenizer is needed.
    bert_status vocab_st;
    char vocab_err[BERT_ERROR_SIZE];
    char *tok_config; // tokenizer_config.json, kept until the header
    size_t tok_config_n;

    uint64_t written;
    uint8_t len_buf[8];
    uint64_t header_len;
    char *header;
    uint64_t header_fill;

    bert_st_dir dir;
    bert_slot *slots;
    int32_t n_labels;
    int32_t cur;       // current tensor (sorted by offset)
    uint64_t data_pos; // bytes of the data area consumed
    uint64_t row_fill; // bytes of a split row in the staging window
    bert_plan plan;
    bert_model *model; // inside its arena; handed over by finish
    uint8_t *stage;    // raw row carry
    float *rowf;       // one row as f32
    int outl_known;    // the outlier dims are decided (first LayerNorm gain seen)
};

// ---------------------------------------------------------------------------------------------
// init / free / small accessors

static int valid_type(int t) {
    return t == BERT_TYPE_F32 || t == BERT_TYPE_F16 || t == BERT_TYPE_Q8_0 || t == BERT_TYPE_Q4_0;
}

static bert_status set_error(bert_loader *l, bert_status st) {
    if (st && !l->status) l->status = st;
    return st;
}

bert_status bert_loader_init(bert_loader **out, const bert_load_params *params) {
    if (!out) return BERT_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    bert_loader *l = calloc(1, sizeof *l);
    if (!l) return BERT_STATUS_OUT_OF_MEMORY;
    l->params = params ? *params : bert_load_default_params();
    bert_config_init(&l->cfg);
    bert_load_params *p = &l->params;
    if (p->embd_type == BERT_TYPE_DEFAULT) p->embd_type = p->wtype;
    if (p->max_batch == 0) p->max_batch = 8;
    if (p->n_threads <= 0) p->n_threads = 1;
    if (p->n_threads > BERT_MAX_THREADS) p->n_threads = BERT_MAX_THREADS; // the pool's cap: plan no more
    // Bad parameters leave the loader in the error state: the first call reports them.
    if (!valid_type((int)p->wtype) || !valid_type((int)p->embd_type))
        l->status = bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "params: wtype/embd_type must be f32, f16, q8_0 or q4_0");
    else if (p->max_tokens < 0 || p->max_tokens == 1)
        l->status = bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "params: max_tokens must be 0 (auto) or >= 2");
    else if (p->max_batch < 0)
        l->status = bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "params: max_batch must be positive");
    else if (p->pooling < BERT_POOLING_DEFAULT || p->pooling > BERT_POOLING_MAX)
        l->status = bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "params: unknown pooling %d", (int)p->pooling);
    else if (p->normalize < -1 || p->normalize > 1)
        l->status = bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "params: normalize must be -1, 0 or 1");
    *out = l;
    return BERT_STATUS_OK;
}

static void free_model(bert_model *m) {
    if (!m) return;
    bert_threadpool_free(m->pool);
    bert_tokenizer_free(m->tok);
    free(m->arena); // m itself lives in the arena
}

void bert_loader_free(bert_loader *l) {
    if (!l) return;
    free(l->header);
    free(l->tok_config);
    bert_tokenizer_free(l->tok);
    bert_st_free(&l->dir);
    free(l->slots);
    free_model(l->model);
    free(l);
}

const char *bert_loader_error(const bert_loader *l) {
    if (!l) return "no loader";
    return l->err; // the last failure's message ("" before any), as bert_model_error
}

int bert_loader_has_plan(const bert_loader *l) { return l && l->has_plan; }

bert_status bert_loader_get_plan(const bert_loader *l, bert_plan *out) {
    if (!l || !out) return BERT_STATUS_INVALID_ARGUMENT;
    if (!l->has_plan) return BERT_STATUS_BAD_STATE;
    *out = l->plan;
    return BERT_STATUS_OK;
}

uint64_t bert_loader_bytes_written(const bert_loader *l) { return l ? l->written : 0; }

// ---------------------------------------------------------------------------------------------
// small files

bert_status bert_loader_add_file(bert_loader *l, const char *name, const void *data, size_t n) {
    if (!l) return BERT_STATUS_INVALID_ARGUMENT;
    if (l->status) return l->status;
    if (!name || (!data && n))
        return set_error(l, bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "add_file: NULL name or data"));
    if (l->written > 0 || l->phase != PH_LEN)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE,
                                      "add_file('%.60s'): small files must come before the first weight byte", name));
    const char *s = data;
    bert_status st = BERT_STATUS_OK;
    if (strcmp(name, "config.json") == 0) {
        if (l->have_config)
            return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE, "config.json was already added"));
        st = bert_config_parse(&l->cfg, s, n, l->err);
        l->have_config = !st;
    } else if (strcmp(name, "tokenizer.json") == 0) {
        bert_tokenizer *t = NULL;
        st = bert_tokenizer_from_json(&t, s, n, l->err);
        if (!st) {
            bert_tokenizer_free(l->tok);
            l->tok = t;
            l->tok_from_json = 1;
            l->vocab_st = BERT_STATUS_OK;
        }
    } else if (strcmp(name, "vocab.txt") == 0) {
        if (l->tok_from_json) return BERT_STATUS_OK; // tokenizer.json already describes everything
        bert_tokenizer *t = NULL;
        l->vocab_st = bert_tokenizer_from_vocab_txt(&t, s, n, l->vocab_err);
        if (!l->vocab_st) {
            bert_tokenizer_free(l->tok);
            l->tok = t;
        }
    } else if (strcmp(name, "tokenizer_config.json") == 0) {
        char *copy = malloc(n ? n : 1);
        if (!copy)
            return set_error(l, bert_fail(l->err, BERT_STATUS_OUT_OF_MEMORY, "out of memory for %s", name));
        if (n) memcpy(copy, s, n);
        free(l->tok_config);
        l->tok_config = copy;
        l->tok_config_n = n;
    } else if (strcmp(name, "modules.json") == 0) {
        st = bert_config_parse_modules(&l->cfg, s, n, l->err);
    } else if (strcmp(name, "1_Pooling/config.json") == 0) {
        st = bert_config_parse_pooling(&l->cfg, s, n, l->err);
    } else if (strcmp(name, "sentence_bert_config.json") == 0) {
        st = bert_config_parse_st(&l->cfg, s, n, l->err);
    } // unknown names (special_tokens_map.json, README.md, ...) are ignored
    return set_error(l, st);
}

// ---------------------------------------------------------------------------------------------
// tensor directory -> destinations

static bert_tensor *model_dest(bert_model *m, int32_t d) {
    switch (d) {
    case D_TOK: return &m->tok_embd;
    case D_POS: return &m->pos_embd;
    case D_TYPE: return &m->type_embd;
    case D_ELN_W: return &m->embd_ln_w;
    case D_ELN_B: return &m->embd_ln_b;
    case D_CLS_W: return &m->cls_w;
    case D_CLS_B: return &m->cls_b;
    case D_POOL_W: return &m->pool_w;
    case D_POOL_B: return &m->pool_b;
    }
    bert_layer *ly = &m->layers[(d - D_N_GLOBAL) / L_N];
    switch ((d - D_N_GLOBAL) % L_N) {
    case L_WQKV: return &ly->wqkv;
    case L_BQKV: return &ly->bqkv;
    case L_WO: return &ly->wo;
    case L_BO: return &ly->bo;
    case L_LN1_W: return &ly->ln1_w;
    case L_LN1_B: return &ly->ln1_b;
    case L_WI: return &ly->wi;
    case L_BI: return &ly->bi;
    case L_WO2: return &ly->wo2;
    case L_BO2: return &ly->bo2;
    case L_LN2_W: return &ly->ln2_w;
    default: return &ly->ln2_b;
    }
}

// Shape of a destination: ne1 rows of ne0 (1-D: ne1 == 1) and its storage class.
static void dest_shape(const bert_config *c, int32_t n_labels, int32_t d, int64_t *ne0, int64_t *ne1, int *kind) {
    int64_t E = c->n_embd, F = c->n_ff;
    *ne1 = 1;
    *kind = K_VEC;
    switch (d) {
    case D_TOK: *ne0 = E, *ne1 = c->n_vocab, *kind = K_EMBD; return;
    case D_POS: *ne0 = E, *ne1 = c->n_max_pos, *kind = K_EMBD; return;
    case D_TYPE: *ne0 = E, *ne1 = c->n_type_vocab, *kind = K_EMBD; return;
    case D_CLS_W: *ne0 = E, *ne1 = n_labels, *kind = K_F32MAT; return;
    case D_CLS_B: *ne0 = n_labels; return;
    case D_POOL_W: *ne0 = E, *ne1 = E, *kind = K_MAT; return;
    case D_ELN_W: case D_ELN_B: case D_POOL_B: *ne0 = E; return;
    }
    switch ((d - D_N_GLOBAL) % L_N) {
    case L_WQKV: *ne0 = E, *ne1 = 3 * E, *kind = K_MAT; return;
    case L_BQKV: *ne0 = 3 * E; return;
    case L_WO: *ne0 = E, *ne1 = E, *kind = K_MAT; return;
    case L_WI: *ne0 = E, *ne1 = F, *kind = K_MAT; return;
    case L_BI: *ne0 = F; return;
    case L_WO2: *ne0 = F, *ne1 = E, *kind = K_MAT; return;
    default: *ne0 = E; return; // biases and LayerNorm of width n_embd
    }
}

static bert_type storage_type(int kind, int64_t ne0, bert_type wtype, bert_type etype) {
    bert_type t = kind == K_EMBD ? etype : kind == K_MAT ? wtype : BERT_TYPE_F32;
    if (!bert_type_fits(t, ne0)) t = BERT_TYPE_F16; // rows not a multiple of 32: f16 instead
    return t;
}

// Outlier-column side table of a destination stored as t: BERT_OUTL_MAX f16 columns of ne1 rows for
// quantized tensors that read the hidden stream, else 0. Reserved at plan time, before the gains
// that decide the outlier dims arrive, so the plan stays exact whatever they turn out to be.
static uint64_t outl_bytes(int32_t d, bert_type t, int64_t ne1) {
    int reads_hidden = d == D_TOK || d == D_POS || d == D_TYPE || d == D_POOL_W ||
                       (d >= D_N_GLOBAL && ((d - D_N_GLOBAL) % L_N == L_WQKV || (d - D_N_GLOBAL) % L_N == L_WI));
    if (!reads_hidden || (t != BERT_TYPE_Q8_0 && t != BERT_TYPE_Q4_0)) return 0;
    return (uint64_t)BERT_OUTL_MAX * 2 * (uint64_t)ne1; // ne1 < 2^33
}

static int is_ln_gain(int32_t d) {
    return d == D_ELN_W ||
           (d >= D_N_GLOBAL && ((d - D_N_GLOBAL) % L_N == L_LN1_W || (d - D_N_GLOBAL) % L_N == L_LN2_W));
}

// Canonical name: no "bert." prefix, LayerNorm gamma/beta -> weight/bias. 0 if too long.
static int canonical_name(const char *name, char *out, size_t cap) {
    if (strncmp(name, "bert.", 5) == 0) name += 5;
    size_t n = strlen(name);
    if (n + 3 >= cap) return 0;
    memcpy(out, name, n + 1);
    if (n >= 15 && strcmp(out + n - 15, "LayerNorm.gamma") == 0) strcpy(out + n - 5, "weight");
    else if (n >= 14 && strcmp(out + n - 14, "LayerNorm.beta") == 0) strcpy(out + n - 4, "bias");
    return 1;
}

static void format_shape(const bert_st_tensor *t, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int32_t i = 0; i < t->n_dims && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%llu", i ? ", " : "", (unsigned long long)t->shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

// Maps every tensor of the directory to a destination (or to "skip") and checks shapes, dtypes,
// duplicates and completeness against config.json.
static bert_status map_tensors(bert_loader *l) {
    const bert_config *c = &l->cfg;
    const bert_st_dir *dir = &l->dir;
    char canon[256];
    // Completeness can be decided from the count first: this also bounds the tables below when
    // config.json claims an absurd number of layers.
    uint64_t n_layer_src = (uint64_t)c->n_layer * N_LAYER_SOURCES;
    if (n_layer_src > (uint64_t)dir->n)
        return bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                         "missing tensors: config.json has %d layers (%llu encoder tensors) but model.safetensors "
                         "holds %d tensors in all",
                         c->n_layer, (unsigned long long)n_layer_src, dir->n);
    int32_t n_dest = D_N_GLOBAL + c->n_layer * L_N;
    int32_t n_seen = n_dest * 3;
    int32_t *seen = malloc((size_t)n_seen * sizeof *seen); // index of the source + 1
    l->slots = calloc((size_t)(dir->n ? dir->n : 1), sizeof *l->slots);
    if (!seen || !l->slots) {
        free(seen);
        return bert_fail(l->err, BERT_STATUS_OUT_OF_MEMORY, "out of memory for the tensor table");
    }
    memset(seen, 0, (size_t)n_seen * sizeof *seen);
    bert_status st = BERT_STATUS_OK;
    // pass 1: the classifier decides whether the pooler is kept and gives n_labels
    l->n_labels = 0;
    for (int32_t i = 0; i < dir->n; i++) {
        if (!canonical_name(dir->tensors[i].name, canon, sizeof canon)) continue;
        if (strcmp(canon, "classifier.weight") == 0 && dir->tensors[i].n_dims == 2) {
            uint64_t r = dir->tensors[i].shape[0];
            if (r == 0 || r > 65536) {
                st = bert_fail(l->err, BERT_STATUS_BAD_MODEL, "tensor '%s': %llu labels", dir->tensors[i].name,
                               (unsigned long long)r);
                goto done;
            }
            l->n_labels = (int32_t)r;
        }
    }
    if (l->n_labels && c->n_labels && c->n_labels != l->n_labels) {
        st = bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                       "classifier.weight has %d rows but config.json num_labels/id2label says %d", l->n_labels,
                       c->n_labels);
        goto done;
    }
    for (int32_t i = 0; i < dir->n; i++) {
        const bert_st_tensor *t = &dir->tensors[i];
        bert_slot *s = &l->slots[i];
        s->dest = -1;
        if (!canonical_name(t->name, canon, sizeof canon)) {
            st = bert_fail(l->err, BERT_STATUS_UNSUPPORTED, "unexpected tensor '%.120s...'", t->name);
            goto done;
        }
        int32_t d = -1, part = 0;
        for (int g = 0; g < D_N_GLOBAL; g++)
            if (strcmp(canon, global_names[g]) == 0) d = g;
        if ((d == D_POOL_W || d == D_POOL_B) && !l->n_labels) d = -1, part = -1; // pooler unused
        if ((d == D_CLS_W || d == D_CLS_B) && !l->n_labels) {
            st = bert_fail(l->err, BERT_STATUS_BAD_MODEL, "tensor '%s' needs a 2-D classifier.weight [n_labels, %d]",
                           t->name, c->n_embd);
            goto done;
        }
        if (d < 0 && part == 0 && strncmp(canon, "encoder.layer.", 14) == 0) {
            const char *p = canon + 14;
            uint64_t layer = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '9' && digits < 10) layer = layer * 10 + (uint64_t)(*p++ - '0'), digits++;
            if (digits && *p == '.') {
                for (int k = 0; k < N_LAYER_SOURCES; k++)
                    if (strcmp(p + 1, layer_sources[k].suffix) == 0) {
                        if (layer >= (uint64_t)c->n_layer) {
                            st = bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                           "tensor '%s' is for layer %llu but config.json has %d layers", t->name,
                                           (unsigned long long)layer, c->n_layer);
                            goto done;
                        }
                        d = D_N_GLOBAL + (int32_t)layer * L_N + layer_sources[k].dest;
                        part = layer_sources[k].part;
                    }
            }
        }
        if (d < 0) {
            // dropped on purpose: position_ids buffer, pooler of a plain encoder, MLM/NSP heads
            if (part == -1 || strcmp(canon, "embeddings.position_ids") == 0 || strncmp(canon, "cls.", 4) == 0 ||
                strncmp(canon, "pooler.", 7) == 0)
                continue;
            st = bert_fail(l->err, BERT_STATUS_UNSUPPORTED, "unexpected tensor '%s' (not part of a BERT encoder)",
                           t->name);
            goto done;
        }
        if (seen[d * 3 + part]) {
            st = bert_fail(l->err, BERT_STATUS_BAD_MODEL, "duplicate tensor: '%s' and '%s' are the same weight",
                           dir->tensors[seen[d * 3 + part] - 1].name, t->name);
            goto done;
        }
        seen[d * 3 + part] = i + 1;
        if (t->dtype != BERT_ST_F32 && t->dtype != BERT_ST_F16 && t->dtype != BERT_ST_BF16) {
            st = bert_fail(l->err, BERT_STATUS_UNSUPPORTED, "tensor '%s' has dtype %s: weights must be F32, F16 or BF16",
                           t->name, bert_st_dtype_name(t->dtype));
            goto done;
        }
        int64_t ne0, ne1;
        int kind;
        dest_shape(c, l->n_labels, d, &ne0, &ne1, &kind);
        int fused = (d >= D_N_GLOBAL) && ((d - D_N_GLOBAL) % L_N == L_WQKV || (d - D_N_GLOBAL) % L_N == L_BQKV);
        if (fused) {
            if (ne1 > 1) ne1 /= 3;
            else ne0 /= 3;
        }
        int ok = ne1 > 1 || kind != K_VEC ? (t->n_dims == 2 && t->shape[0] == (uint64_t)ne1 && t->shape[1] == (uint64_t)ne0)
                                          : (t->n_dims == 1 && t->shape[0] == (uint64_t)ne0);
        if (!ok) {
            char got[128];
            format_shape(t, got, sizeof got);
            if (kind == K_VEC)
                st = bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                               "tensor '%s' has shape %s but config.json implies [%lld]", t->name, got, (long long)ne0);
            else
                st = bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                               "tensor '%s' has shape %s but config.json implies [%lld, %lld]", t->name, got,
                               (long long)ne1, (long long)ne0);
            goto done;
        }
        s->dest = d;
        s->part = part;
        s->ne0 = ne0;
        s->row_in = (uint64_t)ne0 * bert_st_dtype_size(t->dtype); // ne0 < 2^33, size <= 4
    }
    // completeness: every destination (and every q/k/v part) must have a source
    for (int32_t d = 0; d < n_dest; d++) {
        if ((d == D_CLS_W || d == D_CLS_B || d == D_POOL_W || d == D_POOL_B) && !l->n_labels) continue;
        int fused = (d >= D_N_GLOBAL) && ((d - D_N_GLOBAL) % L_N == L_WQKV || (d - D_N_GLOBAL) % L_N == L_BQKV);
        for (int part = 0; part < (fused ? 3 : 1); part++) {
            if (seen[d * 3 + part]) continue;
            if (d < D_N_GLOBAL) {
                st = bert_fail(l->err, BERT_STATUS_BAD_MODEL, "missing tensor '%s'%s", global_names[d],
                               d == D_POOL_W || d == D_POOL_B ? " (a cross-encoder's classifier reads the pooler)" : "");
            } else {
                int f = (d - D_N_GLOBAL) % L_N, k;
                for (k = 0; k < N_LAYER_SOURCES; k++)
                    if (layer_sources[k].dest == f && layer_sources[k].part == part) break;
                st = bert_fail(l->err, BERT_STATUS_BAD_MODEL, "missing tensor 'encoder.layer.%d.%s'",
                               (d - D_N_GLOBAL) / L_N, layer_sources[k].suffix);
            }
            goto done;
        }
    }
done:
    free(seen);
    return st;
}

// ---------------------------------------------------------------------------------------------
// memory plan

typedef struct {
    uint64_t model_off, layers_off, work_off, ids_off, type_ids_off, lens_off, logits_off, stage_off, rowf_off;
    uint64_t arena;
    uint64_t work, stage_raw;
} bert_layout;

static int add_region(uint64_t *pos, uint64_t size, uint64_t *off) {
    uint64_t p = *pos, r;
    if (bert_add_u64(size, ALIGN - 1, &r)) return -1;
    r &= ~(uint64_t)(ALIGN - 1);
    if (off) *off = p;
    return bert_add_u64(p, r, pos);
}

static void fill_hparams(const bert_loader *l, bert_hparams *hp, int32_t max_tokens, int32_t max_batch) {
    const bert_config *c = &l->cfg;
    memset(hp, 0, sizeof *hp);
    hp->n_vocab = c->n_vocab;
    hp->n_max_pos = c->n_max_pos;
    hp->n_type_vocab = c->n_type_vocab;
    hp->n_embd = c->n_embd;
    hp->n_head = c->n_head;
    hp->n_layer = c->n_layer;
    hp->n_ff = c->n_ff;
    hp->n_labels = l->n_labels;
    hp->max_tokens = max_tokens;
    hp->max_batch = max_batch;
    hp->layer_norm_eps = c->layer_norm_eps;
    hp->pooling = l->params.pooling != BERT_POOLING_DEFAULT ? l->params.pooling
                  : c->st_pooling >= 0                       ? c->st_pooling
                                                             : BERT_POOLING_MEAN;
    hp->normalize = l->params.normalize >= 0 ? l->params.normalize : c->st_has_modules ? c->st_normalize : 1;
}

// The plan for given storage types and token shape; lay (may be NULL) receives the arena layout.
// Returns -1 when the sizes overflow 64 bits.
static int plan_compute(const bert_loader *l, bert_type wtype, bert_type etype, int32_t max_tokens,
                        int32_t max_batch, bert_plan *p, bert_layout *lay) {
    const bert_config *c = &l->cfg;
    bert_layout L;
    memset(&L, 0, sizeof L);
    memset(p, 0, sizeof *p);
    uint64_t pos = 0, w = 0, x;
    // fixed structs
    if (add_region(&pos, sizeof(bert_model), &L.model_off)) return -1;
    if (bert_mul_u64((uint64_t)c->n_layer, sizeof(bert_layer), &x) || add_region(&pos, x, &L.layers_off)) return -1;
    // weights
    int32_t n_dest = D_N_GLOBAL + c->n_layer * L_N;
    for (int32_t d = 0; d < n_dest; d++) {
        if ((d == D_CLS_W || d == D_CLS_B || d == D_POOL_W || d == D_POOL_B) && !l->n_labels) continue;
        int64_t ne0, ne1;
        int kind;
        dest_shape(c, l->n_labels, d, &ne0, &ne1, &kind);
        bert_type t = storage_type(kind, ne0, wtype, etype);
        uint64_t row = bert_row_size(t, ne0), nb, before = pos;
        if (!row || bert_mul_u64(row, (uint64_t)ne1, &nb) || add_region(&pos, nb, NULL)) return -1;
        if (add_region(&pos, outl_bytes(d, t, ne1), NULL)) return -1;
        if (bert_add_u64(w, pos - before, &w)) return -1;
    }
    // activations: forward workspace + token I/O buffers
    uint64_t a0 = pos, bt;
    bert_hparams hp;
    fill_hparams(l, &hp, max_tokens, max_batch);
    L.work = bert_forward_workspace_size(&hp, l->params.n_threads);
    if (L.work == 0) return -1; // the forward pass refuses these sizes
    if (add_region(&pos, L.work, &L.work_off)) return -1;
    if (bert_mul_u64((uint64_t)max_tokens, (uint64_t)max_batch, &bt) || bert_mul_u64(bt, 4, &bt)) return -1;
    if (add_region(&pos, bt, &L.ids_off) || add_region(&pos, bt, &L.type_ids_off)) return -1;
    if (add_region(&pos, (uint64_t)max_batch * 4, &L.lens_off)) return -1;
    if (add_region(&pos, (uint64_t)max_batch * 4 * (uint64_t)(l->n_labels > 1 ? l->n_labels : 1), &L.logits_off))
        return -1;
    p->activations = pos - a0;
    // staging: one input row (a row split across chunks) + the same row as f32
    uint64_t s0 = pos, max_row = 0;
    int64_t max_ne0 = 0;
    for (int32_t i = 0; i < l->dir.n; i++) {
        const bert_slot *s = &l->slots[i];
        if (s->dest < 0) continue;
        if (s->row_in > max_row) max_row = s->row_in;
        if (s->ne0 > max_ne0) max_ne0 = s->ne0;
    }
    L.stage_raw = max_row;
    if (add_region(&pos, max_row, &L.stage_off) || add_region(&pos, (uint64_t)max_ne0 * 4, &L.rowf_off)) return -1;
    p->staging = pos - s0;
    L.arena = pos;
    p->weights = w;
    p->vocab = bert_tokenizer_memory(l->tok);
    if (bert_add_u64(pos, p->vocab, &p->total)) return -1;
    p->header_size = 8 + l->header_len;
    p->file_size = p->header_size + l->dir.data_size; // both bounded: header <= 100 MB, data checked
    p->max_tokens = max_tokens;
    p->max_batch = max_batch;
    p->wtype = wtype;
    p->embd_type = etype;
    if (lay) *lay = L;
    return 0;
}

// Does the plan fit budget and address space?
static int plan_fits(const bert_plan *p, uint64_t budget) {
    if (p->total > ADDR_LIMIT || p->total - p->vocab > (uint64_t)SIZE_MAX) return 0;
    return budget == 0 || p->total <= budget;
}

// Over budget: append what would fit (q4_0, then fewer sequences per batch, then fewer tokens).
static void suggest(const bert_loader *l, const bert_plan *cur, uint64_t budget, char *buf, size_t cap) {
    char b1[24];
    size_t k = strlen(buf);
    bert_plan q;
    int q4_fits = 0;
    if (cur->wtype != BERT_TYPE_Q4_0 || cur->embd_type != BERT_TYPE_Q4_0) {
        if (!plan_compute(l, BERT_TYPE_Q4_0, BERT_TYPE_Q4_0, cur->max_tokens, cur->max_batch, &q, NULL)) {
            q4_fits = plan_fits(&q, budget);
            k += (size_t)snprintf(buf + k, k < cap ? cap - k : 0, "; q4_0 would need %s%s",
                                  bert_format_bytes(q.total, b1, sizeof b1), q4_fits ? "" : " (still too much)");
        }
    }
    if (q4_fits || k >= cap) return;
    // Fewest tokens worth suggesting: [CLS] [SEP], or [CLS] a [SEP] b [SEP] for a cross-encoder,
    // which scores pairs (a suggestion below that could not be used).
    const int32_t min_tokens = l->n_labels > 0 ? 3 : 2;
    // largest batch that fits, with the requested types, then with q4_0
    for (int pass = 0; pass < 2; pass++) {
        bert_type wt = pass ? BERT_TYPE_Q4_0 : cur->wtype, et = pass ? BERT_TYPE_Q4_0 : cur->embd_type;
        for (int32_t tokens = cur->max_tokens > min_tokens ? cur->max_tokens : min_tokens; tokens >= min_tokens;
             tokens = tokens > 32 ? tokens / 2 : (tokens > min_tokens ? min_tokens : 0)) {
            int32_t lo = 1, hi = tokens == cur->max_tokens ? cur->max_batch - 1 : cur->max_batch, best = 0;
            while (lo <= hi) { // plans grow with the batch: binary search
                int32_t mid = lo + (hi - lo) / 2;
                if (!plan_compute(l, wt, et, tokens, mid, &q, NULL) && plan_fits(&q, budget)) best = mid, lo = mid + 1;
                else hi = mid - 1;
            }
            if (best) {
                plan_compute(l, wt, et, tokens, best, &q, NULL);
                snprintf(buf + k, cap - k, "; %smax_batch %d, max_tokens %d would need %s", pass ? "q4_0 with " : "",
                         (int)best, (int)tokens, bert_format_bytes(q.total, b1, sizeof b1));
                return;
            }
        }
    }
    if (!plan_compute(l, BERT_TYPE_Q4_0, BERT_TYPE_Q4_0, min_tokens, 1, &q, NULL))
        snprintf(buf + k, cap - k, "; nothing fits: even q4_0 at 1x%d tokens needs %s", (int)min_tokens,
                 bert_format_bytes(q.total, b1, sizeof b1));
}

// Header complete: directory, checks, plan, budget, the one allocation.
static bert_status on_header(bert_loader *l) {
    bert_status st = bert_st_parse(&l->dir, l->header, (size_t)l->header_len, l->err);
    free(l->header);
    l->header = NULL;
    if (st) return st;
    if ((st = map_tensors(l))) return st;
    const bert_config *c = &l->cfg;
    // tokenizer
    if (!l->tok && l->vocab_st) // the vocab.txt that failed, with no tokenizer.json to replace it
        return bert_fail(l->err, l->vocab_st, "%s", l->vocab_err);
    if (!l->tok)
        return bert_fail(l->err, BERT_STATUS_BAD_MODEL, "no tokenizer: add tokenizer.json or vocab.txt before the weights");
    if (l->tok_config) {
        if ((st = bert_tokenizer_apply_config(l->tok, l->tok_config, l->tok_config_n, l->err))) return st;
        free(l->tok_config);
        l->tok_config = NULL;
    }
    static const char *const specials[] = {"[CLS]", "[SEP]", "[UNK]"};
    for (int i = 0; i < 3; i++)
        if (bert_tokenizer_token_id(l->tok, specials[i], 5) < 0)
            return bert_fail(l->err, BERT_STATUS_BAD_MODEL, "the tokenizer has no %s token", specials[i]);
    int32_t tv = bert_tokenizer_vocab_size(l->tok);
    if (tv > c->n_vocab)
        return bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                         "the tokenizer has %d tokens but the word embeddings have only %d rows", tv, c->n_vocab);
    if (l->n_labels == 0 && l->params.pooling == BERT_POOLING_DEFAULT && c->st_pooling == -2)
        return bert_fail(l->err, BERT_STATUS_UNSUPPORTED,
                         "1_Pooling/config.json: pooling mode '%s' is not supported (cls, mean, max)",
                         c->st_pooling_mode);
    // plan
    int32_t max_tokens = bert_config_max_tokens(c, l->params.max_tokens, bert_tokenizer_max_length(l->tok));
    if (max_tokens < 2)
        return bert_fail(l->err, BERT_STATUS_BAD_MODEL, "max_position_embeddings %d is too small for [CLS] [SEP]",
                         c->n_max_pos);
    bert_layout lay;
    bert_plan one;
    if (plan_compute(l, l->params.wtype, l->params.embd_type, max_tokens, l->params.max_batch, &l->plan, &lay) &&
        !plan_compute(l, l->params.wtype, l->params.embd_type, 2, 1, &one, NULL)) // the model is fine alone
        return bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT,
                         "params: %d tokens x %d sequences is too large for the forward pass", max_tokens,
                         l->params.max_batch);
    if (plan_compute(l, l->params.wtype, l->params.embd_type, max_tokens, l->params.max_batch, &l->plan, &lay))
        return bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                         "model sizes overflow the plan's arithmetic (hidden %d, ff %d, layers %d, vocab %d, "
                         "%d tokens x %d sequences)",
                         c->n_embd, c->n_ff, c->n_layer, c->n_vocab, max_tokens, l->params.max_batch);
    l->has_plan = 1;
    char desc[BERT_ERROR_SIZE];
    bert_plan_describe(&l->plan, desc, sizeof desc);
    if (l->params.memory_budget && l->plan.total > l->params.memory_budget) {
        char a[24], b[24];
        bert_format_bytes(l->params.memory_budget, b, sizeof b);
        if (strcmp(b, bert_format_bytes(l->plan.total, a, sizeof a)) == 0) { // equal when rounded: exact bytes
            char *paren = strchr(desc, '(');
            if (paren) {
                char rest[BERT_ERROR_SIZE];
                snprintf(rest, sizeof rest, "%s", paren);
                snprintf(paren, sizeof desc - (size_t)(paren - desc), "= %llu B %s", (unsigned long long)l->plan.total, rest);
            }
        }
    }
    if (l->plan.total > ADDR_LIMIT || lay.arena > (uint64_t)SIZE_MAX) {
        char lim[24];
        st = bert_fail(l->err, BERT_STATUS_BUDGET_EXCEEDED, "model needs %s, more than this %d-bit build can allocate (%s)",
                       desc, (int)(sizeof(void *) * 8), bert_format_bytes(ADDR_LIMIT, lim, sizeof lim));
        suggest(l, &l->plan, ADDR_LIMIT, l->err, BERT_ERROR_SIZE);
        return st;
    }
    if (l->params.memory_budget && l->plan.total > l->params.memory_budget) {
        char b[24], t[24];
        bert_format_bytes(l->params.memory_budget, b, sizeof b);
        if (strcmp(b, bert_format_bytes(l->plan.total, t, sizeof t)) == 0) // same when rounded: say the bytes
            snprintf(b, sizeof b, "%llu B", (unsigned long long)l->params.memory_budget);
        st = bert_fail(l->err, BERT_STATUS_BUDGET_EXCEEDED, "model needs %s, budget is %s", desc, b);
        suggest(l, &l->plan, l->params.memory_budget, l->err, BERT_ERROR_SIZE);
        return st;
    }
    // the one allocation
    uint8_t *arena = aligned_alloc(ALIGN, (size_t)lay.arena);
    if (!arena) {
        char b[24];
        return bert_fail(l->err, BERT_STATUS_OUT_OF_MEMORY, "could not allocate the %s arena",
                         bert_format_bytes(lay.arena, b, sizeof b));
    }
    bert_model *m = (bert_model *)(arena + lay.model_off);
    memset(m, 0, sizeof *m);
    m->arena = arena;
    m->arena_size = lay.arena;
    m->plan = l->plan;
    m->act = c->act;
    fill_hparams(l, &m->hp, max_tokens, l->params.max_batch);
    m->layers = (bert_layer *)(arena + lay.layers_off);
    memset(m->layers, 0, (size_t)c->n_layer * sizeof(bert_layer));
    m->work = arena + lay.work_off;
    m->work_size = lay.work;
    m->io_ids = (int32_t *)(arena + lay.ids_off);
    m->io_type_ids = (int32_t *)(arena + lay.type_ids_off);
    m->io_lens = (int32_t *)(arena + lay.lens_off);
    m->io_logits = (float *)(arena + lay.logits_off);
    l->stage = arena + lay.stage_off;
    l->rowf = (float *)(arena + lay.rowf_off);
    // destination tensors, in the same order as plan_compute
    uint64_t pos = lay.layers_off;
    add_region(&pos, (uint64_t)c->n_layer * sizeof(bert_layer), NULL);
    int32_t n_dest = D_N_GLOBAL + c->n_layer * L_N;
    for (int32_t d = 0; d < n_dest; d++) {
        if ((d == D_CLS_W || d == D_CLS_B || d == D_POOL_W || d == D_POOL_B) && !l->n_labels) continue;
        int64_t ne0, ne1;
        int kind;
        dest_shape(c, l->n_labels, d, &ne0, &ne1, &kind);
        bert_tensor *t = model_dest(m, d);
        t->type = storage_type(kind, ne0, l->params.wtype, l->params.embd_type);
        t->ne0 = (int32_t)ne0;
        t->ne1 = (int32_t)ne1;
        t->nbytes = bert_row_size(t->type, ne0) * (uint64_t)ne1;
        t->data = arena + pos;
        add_region(&pos, t->nbytes, NULL);
        t->outl_nbytes = outl_bytes(d, t->type, ne1);
        t->outl = (uint16_t *)(void *)(arena + pos);
        add_region(&pos, t->outl_nbytes, NULL);
        if (!t->outl_nbytes) t->outl = NULL;
    }
    for (int32_t i = 0; i < l->dir.n; i++) {
        bert_slot *s = &l->slots[i];
        if (s->dest < 0) continue;
        bert_tensor *t = model_dest(m, s->dest);
        s->row_out = bert_row_size(t->type, s->ne0);
        uint64_t part_bytes = t->ne1 > 1 ? t->nbytes / 3 : (uint64_t)s->ne0 * 4; // fused q/k/v thirds
        s->dst = (uint8_t *)t->data + (uint64_t)s->part * part_bytes;
    }
    m->tok = l->tok;
    l->tok = NULL;
    l->model = m;
    m->n_threads = l->params.n_threads;
    if ((st = bert_threadpool_init(&m->pool, m->n_threads)))
        return bert_fail(l->err, st, "could not start %d worker threads", (int)m->n_threads - 1);
    return BERT_STATUS_OK;
}

// ---------------------------------------------------------------------------------------------
// data

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// File row -> f32. bounce: an aligned scratch of one input row, for F16 rows at an odd address
// (the SIMD converter reads uint16 lanes); it is free whenever a row is converted from the chunk.
static void convert_row(const uint8_t *src, bert_st_dtype dt, int64_t n, float *out, uint8_t *bounce) {
    if (dt == BERT_ST_F32) {
        memcpy(out, src, (size_t)n * 4);
    } else if (dt == BERT_ST_F16) {
        if ((uintptr_t)src & 1) {
            memcpy(bounce, src, (size_t)n * 2);
            src = bounce;
        }
        bert_f16_row_to_f32((const uint16_t *)(const void *)src, out, n);
    } else { // BF16: the top half of an f32
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)src[2 * i] << 16 | (uint32_t)src[2 * i + 1] << 24;
            memcpy(&out[i], &u, 4);
        }
    }
}

// The outlier dims from a LayerNorm gain row: |g| > BERT_OUTL_RATIO x median |g|, the
// BERT_OUTL_MAX largest if more qualify. tmp: n floats.
static void find_outliers(bert_model *m, const float *g, int32_t n, float *tmp) {
    for (int32_t i = 0; i < n; i++) tmp[i] = g[i] == g[i] ? fabsf(g[i]) : 0.0f; // NaN counts as 0
    // median: sort a copy (once per model, n <= 2^20)
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_float);
    const float thr = BERT_OUTL_RATIO * tmp[n / 2];
    int32_t k = 0, idx[BERT_OUTL_MAX];
    while (k < BERT_OUTL_MAX) { // the largest remaining gain above the threshold
        int32_t best = -1;
        for (int32_t i = 0; i < n; i++) {
            float a = g[i] == g[i] ? fabsf(g[i]) : 0.0f;
            int taken = 0;
            for (int32_t j = 0; j < k; j++) taken |= idx[j] == i;
            if (!taken && a > thr && (best < 0 || a > fabsf(g[best]))) best = i;
        }
        if (best < 0) break;
        idx[k++] = best;
    }
    for (int32_t i = 1; i < k; i++) // ascending
        for (int32_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            int32_t x = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = x;
        }
    m->n_outl = k;
    memcpy(m->outl_idx, idx, (size_t)k * sizeof *idx);
}

// One complete input row of the current tensor, whose first byte is at data offset row_start.
static void store_row(bert_loader *l, const bert_st_tensor *t, const bert_slot *s, const uint8_t *src,
                      uint64_t row_start) {
    uint64_t row = (row_start - t->begin) / s->row_in;
    uint8_t *dst = s->dst + row * s->row_out;
    bert_model *m = l->model;
    bert_tensor *dt = model_dest(m, s->dest);
    bert_type type = dt->type;
    if (type == BERT_TYPE_F32) {
        convert_row(src, t->dtype, s->ne0, (float *)(void *)dst, l->stage); // f32 rows stay 4-byte aligned
        if (!l->outl_known && is_ln_gain(s->dest)) {
            find_outliers(m, (const float *)(void *)dst, (int32_t)s->ne0, l->rowf);
            l->outl_known = 1;
        }
    } else {
        convert_row(src, t->dtype, s->ne0, l->rowf, l->stage);
        if (dt->outl) {
            // A row that arrives before the first LayerNorm gain (a reordered file) keeps all its
            // columns quantized and zeros in the side table: correct, only less precise.
            if (!l->outl_known) dt->outl_in_data = 1;
            uint64_t r = row + (uint64_t)s->part * (uint64_t)(dt->ne1 / 3); // fused q/k/v: rows of part
            for (int32_t j = 0; j < BERT_OUTL_MAX; j++) {
                uint16_t h = 0;
                if (l->outl_known && j < m->n_outl) {
                    float *v = &l->rowf[m->outl_idx[j]];
                    h = bert_f32_to_f16(*v);
                    *v = 0.0f; // the exact side column replaces it
                }
                dt->outl[(uint64_t)j * (uint64_t)dt->ne1 + r] = h;
            }
        }
        bert_quantize_row(type, l->rowf, dst, s->ne0);
    }
}

static bert_status feed_data(bert_loader *l, const uint8_t *p, size_t n) {
    while (n) {
        if (l->cur >= l->dir.n)
            return bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                             "model.safetensors has bytes past the end of the tensor data (at byte offset %llu; the "
                             "file should be %llu bytes)",
                             (unsigned long long)(l->plan.header_size + l->data_pos),
                             (unsigned long long)l->plan.file_size);
        const bert_st_tensor *t = &l->dir.tensors[l->cur];
        const bert_slot *s = &l->slots[l->cur];
        uint64_t left = t->end - l->data_pos;
        if (left == 0) {
            l->cur++;
            continue;
        }
        size_t take;
        if (s->dest < 0) { // skipped tensor: consume and drop
            take = left < n ? (size_t)left : n;
        } else if (l->row_fill) { // continue a row split across chunks
            uint64_t need = s->row_in - l->row_fill;
            take = need < n ? (size_t)need : n;
            memcpy(l->stage + l->row_fill, p, take);
            uint64_t row_start = l->data_pos - l->row_fill;
            l->row_fill += take;
            if (l->row_fill == s->row_in) {
                store_row(l, t, s, l->stage, row_start);
                l->row_fill = 0;
            }
        } else if (n >= s->row_in) { // whole rows straight from the chunk, no copy
            uint64_t rows = n / s->row_in, rows_left = left / s->row_in; // left is a whole number of rows
            if (rows > rows_left) rows = rows_left;
            for (uint64_t r = 0; r < rows; r++) store_row(l, t, s, p + r * s->row_in, l->data_pos + r * s->row_in);
            take = (size_t)(rows * s->row_in);
        } else { // the start of a row split across chunks
            take = n;
            memcpy(l->stage, p, take);
            l->row_fill = take;
        }
        l->data_pos += take;
        l->written += take;
        p += take;
        n -= take;
    }
    return BERT_STATUS_OK;
}

bert_status bert_loader_write(bert_loader *l, const void *data, size_t n) {
    if (!l) return BERT_STATUS_INVALID_ARGUMENT;
    if (l->status || n == 0) return l->status; // an empty write changes nothing, in any state
    if (!data) return set_error(l, bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "write: NULL data"));
    if (l->phase == PH_DONE)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE, "write after bert_loader_finish"));
    if (!l->have_config)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE, "config.json must be added before the weights"));
    const uint8_t *p = data;
    while (n) {
        if (l->phase == PH_LEN) {
            size_t take = 8 - (size_t)l->written < n ? 8 - (size_t)l->written : n;
            memcpy(l->len_buf + l->written, p, take);
            l->written += take;
            p += take;
            n -= take;
            if (l->written < 8) break;
            uint64_t h = 0;
            for (int i = 7; i >= 0; i--) h = h << 8 | l->len_buf[i];
            l->header_len = h;
            if (h < 2)
                return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                              "safetensors header length %llu is too small", (unsigned long long)h));
            if (h > BERT_ST_MAX_HEADER)
                return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                              "safetensors header length %llu is over the %llu-byte limit (not a "
                                              "safetensors file?)",
                                              (unsigned long long)h, (unsigned long long)BERT_ST_MAX_HEADER));
            if (l->params.memory_budget && h > l->params.memory_budget) // the header buffer is transient, still
                return set_error(l, bert_fail(l->err, BERT_STATUS_BUDGET_EXCEEDED,
                                              "the safetensors header alone is %llu bytes, over the %llu-byte budget",
                                              (unsigned long long)h, (unsigned long long)l->params.memory_budget));
            l->header = malloc((size_t)h);
            if (!l->header)
                return set_error(l, bert_fail(l->err, BERT_STATUS_OUT_OF_MEMORY,
                                              "out of memory for a %llu-byte header", (unsigned long long)h));
            l->phase = PH_HEADER;
        } else if (l->phase == PH_HEADER) {
            uint64_t need = l->header_len - l->header_fill;
            size_t take = need < n ? (size_t)need : n;
            memcpy(l->header + l->header_fill, p, take);
            l->header_fill += take;
            l->written += take;
            p += take;
            n -= take;
            if (l->header_fill < l->header_len) break;
            bert_status st = on_header(l);
            if (st) return set_error(l, st);
            l->phase = PH_DATA;
        } else {
            bert_status st = feed_data(l, p, n);
            if (st) return set_error(l, st);
            break;
        }
    }
    return BERT_STATUS_OK;
}

bert_status bert_loader_finish(bert_loader *l, bert_model **out) {
    if (!l) return BERT_STATUS_INVALID_ARGUMENT;
    if (!out) return bert_fail(l->err, BERT_STATUS_INVALID_ARGUMENT, "finish: out is NULL"); // loader unchanged
    *out = NULL;
    if (l->status) return l->status;
    if (l->phase == PH_DONE) return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE, "finish called twice"));
    if (!l->have_config)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_STATE, "finish before config.json and the weights"));
    if (l->phase == PH_LEN)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                      "model.safetensors is truncated: %llu of 8 header-length bytes",
                                      (unsigned long long)l->written));
    if (l->phase == PH_HEADER)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                      "model.safetensors is truncated inside the header (%llu of %llu header bytes; "
                                      "header length past the end?)",
                                      (unsigned long long)l->header_fill, (unsigned long long)l->header_len));
    while (l->cur < l->dir.n && l->dir.tensors[l->cur].end == l->data_pos && !l->row_fill) l->cur++;
    if (l->cur < l->dir.n)
        return set_error(l, bert_fail(l->err, BERT_STATUS_BAD_MODEL,
                                      "model.safetensors is truncated at byte offset %llu, inside tensor '%s' (the "
                                      "file should be %llu bytes)",
                                      (unsigned long long)(l->plan.header_size + l->data_pos),
                                      l->dir.tensors[l->cur].name, (unsigned long long)l->plan.file_size));
    // every side table now holds the outlier columns (or zeros for rows stored before they were known)
    bert_model *m = l->model;
    for (int32_t d = 0; d < D_N_GLOBAL + l->cfg.n_layer * L_N; d++) {
        bert_tensor *t = model_dest(m, d);
        if (t->outl) t->n_outl = m->n_outl;
    }
    *out = l->model;
    l->model = NULL;
    l->phase = PH_DONE;
    // the directory and slots are load-time only
    bert_st_free(&l->dir);
    free(l->slots);
    l->slots = NULL;
    return BERT_STATUS_OK;
}
