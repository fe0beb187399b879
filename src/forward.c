// forward.c - the BERT encoder forward pass over a ragged batch, pooling, and the cross-encoder
// head. Sequences are concatenated with no padding: dense layers run on all tokens of the batch at
// once, attention runs per (sequence, head). All buffers are carved from model->work.
#include "forward.h"

#include <math.h>
#include <string.h>

#include "kernels.h"
#include "quant.h"
#include "threads.h"

// ---------------------------------------------------------------------------------------------
// Workspace layout (floats unless noted; each region 64-byte aligned). T = max_tokens * max_batch.
//   x    (T, n_embd)        hidden state
//   ctx  (T, n_embd)        attention output (per-head context, heads side by side); before
//                           attention it holds the quantized activations for the Q|K|V GEMM
//   qkv  (T, 3 n_embd)      fused projections; after attention, quantized activations for the
//                           output projection and the FFN GEMMs
//   ff   (FFN_CHUNK, n_ff)  FFN intermediate of one chunk of tokens
//   starts (max_batch) int32: where each sequence begins
//   per thread: max(GEMM scratch (a packed weight panel + a packed block of tokens, kernels.c),
//               attention scratch (4 score rows + the head's keys transposed, rows of n rounded
//               up to 8))

typedef struct {
    uint64_t x, ctx, qkv, ff, starts, thread; // byte offsets
    uint64_t thread_stride;           // bytes per thread
    uint64_t total;
} ws_layout;

static uint64_t align64(uint64_t v) { return (v + 63) & ~(uint64_t)63; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

// Quantized activations for n_tok rows of k values: int16 values + one f32 scale per group of
// BERT_ACT_GROUP (kernels.h).
static uint64_t qact_bytes(uint64_t n_tok, uint64_t k) {
    return n_tok * k * 2 + n_tok * (uint64_t)bert_act_groups((int32_t)k) * 4 + 64;
}

// The FFN runs over chunks of this many tokens: its n_ff-wide intermediate is the largest
// activation (4x the hidden state), and rows are independent, so chunking bounds that buffer
// without changing any result; chunks this long keep the GEMMs efficient.
#define FFN_CHUNK 256

// 0 on success; -1 if the sizes overflow (hp values bounded by the loader, so only on nonsense).
static int ws_plan(const bert_hparams *hp, int32_t n_threads, ws_layout *l) {
    if (hp->n_embd <= 0 || hp->n_ff <= 0 || hp->n_head <= 0 || hp->max_tokens <= 0 || hp->max_batch <= 0)
        return -1;
    if (n_threads < 1) n_threads = 1;
    const uint64_t E = (uint64_t)hp->n_embd, F = (uint64_t)hp->n_ff, L = (uint64_t)hp->max_tokens;
    uint64_t T;
    if (bert_mul_u64(L, (uint64_t)hp->max_batch, &T) || T > (1ull << 31)) return -1;
    if (E > (1u << 20) || F > (1u << 22)) return -1;
    const uint64_t kmax = max_u64(E, F);
    uint64_t x = align64(T * E * 4);
    const uint64_t CH = T < FFN_CHUNK ? T : FFN_CHUNK;
    // quantized activations live in whichever region is free during their GEMM:
    // Q|K|V projection -> ctx; attention output -> qkv; FFN (per chunk) -> qkv
    uint64_t ctx = align64(max_u64(T * E * 4, qact_bytes(T, E)));
    uint64_t qkv = align64(max_u64(T * 3 * E * 4, max_u64(qact_bytes(T, E), qact_bytes(CH, max_u64(E, F)))));
    uint64_t ff = align64(CH * F * 4);
    uint64_t gemm = bert_gemm_scratch_floats((int32_t)kmax) * 4;
    const uint64_t L8 = (L + 7) & ~(uint64_t)7, HD = E / (uint64_t)hp->n_head;
    uint64_t attn = (4 + HD) * L8 * 4;
    uint64_t pool = 2 * E * 4; // pooler / classifier vectors (thread 0)
    uint64_t th = align64(max_u64(max_u64(gemm, attn), pool));
    l->x = 0;
    l->ctx = x;
    l->qkv = l->ctx + ctx;
    l->ff = l->qkv + qkv;
    l->starts = l->ff + ff;
    l->thread = l->starts + align64((uint64_t)hp->max_batch * 4);
    l->thread_stride = th;
    uint64_t threads;
    if (bert_mul_u64(th, (uint64_t)n_threads, &threads)) return -1;
    if (bert_add_u64(l->thread, threads, &l->total)) return -1;
    l->total += 64; // room to align the base
    return 0;
}

uint64_t bert_forward_workspace_size(const bert_hparams *hp, int32_t n_threads) {
    ws_layout l;
    return ws_plan(hp, n_threads, &l) ? 0 : l.total;
}

// ---------------------------------------------------------------------------------------------
// Parallel pieces

typedef struct {
    bert_gemm_args a;
    int32_t n_out;
    float *scratch;        // thread i: scratch + i * stride
    size_t scratch_stride; // floats
} gemm_job;

_Static_assert(BERT_OUTL_MAX <= BERT_GEMM_OUTL_MAX, "the GEMM takes every outlier column a model can have");

// Units of one packed weight panel (BERT_GEMM_PANEL outputs), so no range splits a panel.
static void gemm_task(void *ctx, int32_t begin, int32_t end, int32_t thread) {
    gemm_job *j = ctx;
    const int32_t o1 = end * BERT_GEMM_PANEL > j->n_out ? j->n_out : end * BERT_GEMM_PANEL;
    bert_gemm(&j->a, begin * BERT_GEMM_PANEL, o1, j->scratch + (size_t)thread * j->scratch_stride);
}

typedef struct {
    const float *x;
    int64_t ldx;
    int32_t k;
    int16_t *q;
    float *d;
    const int32_t *skip; // outlier columns, quantized as 0 (n_skip of them, 0: none)
    int32_t n_skip;
} quant_job;

// Outlier columns of a decomposed weight are 0 in its quantized rows (the GEMM adds them from the
// exact side table), so their activations are quantized as 0 too: a hidden dim 10-50x larger than
// the rest would otherwise set the scale of its whole 128-value group.
static void quant_task(void *ctx, int32_t begin, int32_t end, int32_t thread) {
    quant_job *j = ctx;
    const int32_t ng = bert_act_groups(j->k);
    for (int32_t t = begin; t < end; t++) {
        const float *x = j->x + (int64_t)t * j->ldx;
        int16_t *q = j->q + (int64_t)t * j->k;
        float *d = j->d + (int64_t)t * ng;
        if (!j->n_skip) {
            bert_quantize_act(x, j->k, q, d);
            continue;
        }
        for (int32_t g0 = 0; g0 < j->k; g0 += BERT_ACT_GROUP) {
            const int32_t gn = j->k - g0 < BERT_ACT_GROUP ? j->k - g0 : BERT_ACT_GROUP;
            float tmp[BERT_ACT_GROUP];
            const float *src = x + g0;
            for (int32_t c = 0; c < j->n_skip; c++) {
                if (j->skip[c] < g0 || j->skip[c] >= g0 + gn) continue;
                if (src != tmp) src = memcpy(tmp, x + g0, (size_t)gn * sizeof(float));
                tmp[j->skip[c] - g0] = 0.0f;
            }
            bert_quantize_act(src, gn, q + g0, d + g0 / BERT_ACT_GROUP);
        }
    }
}

typedef struct {
    float *x;
    int32_t n;
    const float *w, *b;
    float eps;
} ln_job;

static void ln_task(void *ctx, int32_t begin, int32_t end, int32_t thread) {
    ln_job *j = ctx;
    for (int32_t t = begin; t < end; t++) bert_layernorm(j->x + (int64_t)t * j->n, j->n, j->w, j->b, j->eps);
}

typedef struct {
    const float *qkv; // (n_tok, 3E)
    float *ctx;       // (n_tok, E)
    const int32_t *seq_start, *seq_lens;
    int32_t n_head, hd, E;
    float scale;
    int32_t cls_only; // only each sequence's first query row, into ctx row s (see forward)
    float *scratch;
    size_t scratch_stride;
} attn_job;

// One unit = (sequence, head), four query rows at a time: scores against all keys of the
// sequence, softmax, weighted sum of the values (read in place). Padding never exists.
static void attn_task(void *ctx, int32_t begin, int32_t end, int32_t thread) {
    attn_job *j = ctx;
    const int32_t E = j->E, hd = j->hd;
    float *sc = j->scratch + (size_t)thread * j->scratch_stride;
    for (int32_t u = begin; u < end; u++) {
        const int32_t s = u / j->n_head, h = u % j->n_head;
        const int32_t n = j->seq_lens[s], s0 = j->seq_start[s], n8 = (n + 7) & ~7;
        const float *q = j->qkv + (int64_t)s0 * 3 * E + (int64_t)h * hd;
        const float *k = q + E, *v = q + 2 * E;
        float *scores = sc, *kt = sc + 4 * (size_t)n8; // (4, n8), then the keys transposed (hd, n8)
        bert_attn_pack_keys(k, 3 * E, n, hd, kt, n8);
        const int32_t nq = j->cls_only ? 1 : n;
        for (int32_t i0 = 0; i0 < nq; i0 += 4) {
            const int32_t ni = nq - i0 < 4 ? nq - i0 : 4;
            bert_attn_qk(q + (int64_t)i0 * 3 * E, 3 * E, ni, kt, n8, n, hd, scores, n8);
            for (int32_t i = 0; i < ni; i++) bert_softmax(scores + (size_t)i * n8, n, j->scale);
            const int64_t row = j->cls_only ? s : s0 + i0;
            bert_attn_pv(scores, n8, ni, n, v, 3 * E, hd, j->ctx + row * E + (int64_t)h * hd, E);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The forward pass

typedef struct {
    bert_model *m;
    ws_layout l;
    int32_t n_threads;
    float *x, *ctx, *qkv, *ff, *thread;
    int32_t n_tok;
} fwd;

// y = act(x W^T + b) + res over all tokens. Quantized weights get the activations quantized first
// (into qbuf, a region not otherwise live during this GEMM).
static bert_status linear(fwd *f, int32_t n_rows, const bert_tensor *w, const bert_tensor *b, const float *x,
                          int32_t n_in, float *y, int32_t n_out, const float *res, int act, void *qbuf) {
    bert_model *m = f->m;
    if (w->ne0 != n_in || w->ne1 != n_out || !w->data || (b->data && (b->ne0 != n_out || b->type != BERT_TYPE_F32)))
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "weight shape (%d, %d) where (%d, %d) expected",
                         w->ne1, w->ne0, n_out, n_in);
    gemm_job j;
    memset(&j, 0, sizeof j);
    j.a.n_tok = n_rows;
    j.a.n_in = n_in;
    j.a.x = x;
    j.a.ldx = n_in;
    j.a.wtype = w->type;
    j.a.w = w->data;
    j.a.w_row = bert_row_size(w->type, n_in);
    j.a.y = y;
    j.a.ldy = n_out;
    j.a.bias = b->data;
    j.a.res = res;
    j.a.ldr = n_out;
    j.a.act = act;
    j.n_out = n_out;
    j.scratch = f->thread;
    j.scratch_stride = f->l.thread_stride / 4;
    if (j.a.w_row == 0 || w->nbytes / j.a.w_row < (uint64_t)n_out)
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "weight of %d x %d %s values does not fit its %llu bytes",
                         n_out, n_in, bert_type_name(w->type), (unsigned long long)w->nbytes);
    if (w->n_outl > 0) { // decomposed (model.h): the GEMM adds the exact side columns
        if (!w->outl || w->n_outl > m->n_outl || w->outl_nbytes / 2 / (uint64_t)n_out < (uint64_t)w->n_outl)
            return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "outlier columns of a %d x %d weight are inconsistent",
                             n_out, n_in);
        for (int32_t c = 0; c < w->n_outl; c++)
            if (m->outl_idx[c] < 0 || m->outl_idx[c] >= n_in)
                return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "outlier column %d outside %d inputs", m->outl_idx[c], n_in);
        j.a.n_outl = w->n_outl;
        j.a.outl_idx = m->outl_idx;
        j.a.outl = w->outl;
        j.a.outl_ld = n_out;
    }
    if (w->type == BERT_TYPE_Q8_0 || w->type == BERT_TYPE_Q4_0) {
        quant_job q = {x, n_in, n_in, (int16_t *)qbuf, NULL, NULL, 0};
        q.d = (float *)((char *)qbuf + (((uint64_t)n_rows * n_in * 2 + 63) & ~(uint64_t)63));
        if (w->n_outl > 0 && !w->outl_in_data) { // every row holds 0 at the outlier columns
            q.skip = m->outl_idx;
            q.n_skip = w->n_outl;
        }
        bert_parallel_for(m->pool, n_rows, quant_task, &q);
        j.a.xq = q.q;
        j.a.xd = q.d;
    }
    bert_parallel_for(m->pool, (n_out + BERT_GEMM_PANEL - 1) / BERT_GEMM_PANEL, gemm_task, &j);
    return BERT_STATUS_OK;
}

static void layernorm_rows(fwd *f, float *x, const bert_tensor *w, const bert_tensor *b) {
    ln_job j = {x, f->m->hp.n_embd, w->data, b->data, f->m->hp.layer_norm_eps};
    bert_parallel_for(f->m->pool, f->n_tok, ln_task, &j);
}

// Row r of an embedding table (any storage type), as f32, plus its outlier columns (zero in the
// quantized row, or zero in the side table for a row stored before they were known).
static void embd_row(const bert_model *m, const bert_tensor *t, int32_t r, float *dst, int32_t E) {
    bert_dequantize_row(t->type, (const char *)t->data + (uint64_t)r * bert_row_size(t->type, E), dst, E);
    for (int32_t j = 0; j < t->n_outl; j++) dst[m->outl_idx[j]] += bert_f16_to_f32(t->outl[(int64_t)j * t->ne1 + r]);
}

static int vec_ok(const bert_tensor *t, int32_t n) { return t->data && t->type == BERT_TYPE_F32 && t->ne0 == n; }
static int mat_ok(const bert_tensor *t, int32_t rows, int32_t cols) {
    const uint64_t row = bert_row_size(t->type, cols);
    return t->data && t->ne0 == cols && t->ne1 >= rows && row != 0 && t->nbytes / row >= (uint64_t)rows;
}

// A tensor's outlier side table covers its in-use columns (model.h).
static int outl_ok(const bert_model *m, const bert_tensor *t) {
    return t->n_outl <= 0 || (t->n_outl <= m->n_outl && t->outl && t->ne1 > 0 &&
                              t->outl_nbytes / 2 / (uint64_t)t->ne1 >= (uint64_t)t->n_outl);
}

// The forward pass trusts nothing it indexes: every tensor it reads is present with the shape the
// hyperparameters imply (the loader guarantees this; a hand-built or damaged model fails cleanly).
static bert_status check_model(bert_model *m, int32_t max_len) {
    const bert_hparams *hp = &m->hp;
    const int32_t E = hp->n_embd, F = hp->n_ff;
    if (E <= 0 || F <= 0 || hp->n_head <= 0 || E % hp->n_head != 0 || hp->n_layer < 0 || !m->layers)
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "hidden size %d, %d heads, %d layers: inconsistent", E,
                         hp->n_head, hp->n_layer);
    if (!mat_ok(&m->tok_embd, hp->n_vocab, E) || !mat_ok(&m->pos_embd, max_len, E) ||
        !mat_ok(&m->type_embd, hp->n_type_vocab, E) || !vec_ok(&m->embd_ln_w, E) || !vec_ok(&m->embd_ln_b, E))
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "embedding tensors missing or mis-shaped");
    if (m->n_outl < 0 || m->n_outl > BERT_OUTL_MAX)
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "%d outlier dims (at most %d)", m->n_outl, BERT_OUTL_MAX);
    for (int32_t j = 0; j < m->n_outl; j++)
        if (m->outl_idx[j] < 0 || m->outl_idx[j] >= E)
            return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "outlier dim %d outside the hidden size %d", m->outl_idx[j], E);
    if (!outl_ok(m, &m->tok_embd) || !outl_ok(m, &m->pos_embd) || !outl_ok(m, &m->type_embd) || !outl_ok(m, &m->pool_w))
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "outlier columns of the embeddings or pooler are inconsistent");
    for (int32_t i = 0; i < hp->n_layer; i++) {
        const bert_layer *l = &m->layers[i];
        if (!vec_ok(&l->ln1_w, E) || !vec_ok(&l->ln1_b, E) || !vec_ok(&l->ln2_w, E) || !vec_ok(&l->ln2_b, E))
            return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "layer %d: LayerNorm tensors missing or mis-shaped", i);
    }
    return BERT_STATUS_OK;
}

static int epi_act(bert_act a) {
    return a == BERT_ACT_GELU_TANH ? BERT_EPI_GELU_TANH : a == BERT_ACT_RELU ? BERT_EPI_RELU : BERT_EPI_GELU;
}

// Moves each sequence's first ([CLS]) row of x to row s. Row s's source starts[s] >= s, and no
// later sequence starts at or before s, so copying in order overwrites nothing still needed.
static void gather_cls(fwd *f, const int32_t *starts, int32_t n_seq) {
    const int32_t E = f->m->hp.n_embd;
    for (int32_t s = 0; s < n_seq; s++)
        if (starts[s] != s) memmove(f->x + (int64_t)s * E, f->x + (int64_t)starts[s] * E, (size_t)E * 4);
    f->n_tok = n_seq;
}

// Checks the arguments and the workspace, and leaves the final hidden states in f->x: one row per
// token, or with cls_only one row per sequence, its first token's. Heads that read only [CLS]
// (classifiers, CLS pooling) need nothing else from the last layer but K and V of every token: its
// attention, output projection and FFN run on the n_seq [CLS] rows alone (each token's arithmetic
// is the same either way, so the result is bit-identical).
static bert_status forward(fwd *f, bert_model *m, const int32_t *ids, const int32_t *type_ids,
                           const int32_t *seq_lens, int32_t n_seq, int cls_only) {
    const bert_hparams *hp = &m->hp;
    memset(f, 0, sizeof *f);
    f->m = m;
    f->n_threads = m->n_threads < 1 ? 1 : m->n_threads;
    if (!ids || !seq_lens || n_seq < 1)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "ids, seq_lens and n_seq >= 1 are required");
    if (n_seq > hp->max_batch)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "n_seq %d exceeds max_batch %d", n_seq, hp->max_batch);
    if (bert_threadpool_size(m->pool) > f->n_threads)
        return bert_fail(m->err, BERT_STATUS_BAD_STATE, "thread pool larger than the planned n_threads");
    if (ws_plan(hp, f->n_threads, &f->l) || !m->work || m->work_size < f->l.total)
        return bert_fail(m->err, BERT_STATUS_BAD_STATE, "forward workspace missing or smaller than planned");
    const int32_t E = hp->n_embd, F = hp->n_ff;
    const int32_t max_len = hp->max_tokens < hp->n_max_pos ? hp->max_tokens : hp->n_max_pos;
    int64_t n_tok = 0;
    for (int32_t s = 0; s < n_seq; s++) {
        if (seq_lens[s] < 1 || seq_lens[s] > max_len)
            return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "sequence %d has %d tokens (allowed 1..%d)", s,
                             seq_lens[s], max_len);
        n_tok += seq_lens[s];
    }
    for (int64_t t = 0; t < n_tok; t++) {
        if (ids[t] < 0 || ids[t] >= hp->n_vocab)
            return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "token id %d at %lld outside the vocabulary (%d)",
                             ids[t], (long long)t, hp->n_vocab);
        if (type_ids && (type_ids[t] < 0 || type_ids[t] >= hp->n_type_vocab))
            return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "token type id %d at %lld outside 0..%d",
                             type_ids[t], (long long)t, hp->n_type_vocab - 1);
    }
    bert_status st = check_model(m, max_len);
    if (st) return st;
    f->n_tok = (int32_t)n_tok;
    char *base = (char *)(((uintptr_t)m->work + 63) & ~(uintptr_t)63);
    f->x = (float *)(base + f->l.x);
    f->ctx = (float *)(base + f->l.ctx);
    f->qkv = (float *)(base + f->l.qkv);
    f->ff = (float *)(base + f->l.ff);
    f->thread = (float *)(base + f->l.thread);

    // 1. Embeddings: word + position (0.. per sequence) + token type, then LayerNorm. Rows of any
    //    storage type dequantize on lookup.
    {
        int64_t t = 0;
        float *tmp = f->ctx; // ctx is free until attention
        for (int32_t s = 0; s < n_seq; s++) {
            for (int32_t i = 0; i < seq_lens[s]; i++, t++) {
                float *x = f->x + t * E;
                const int32_t tt = type_ids ? type_ids[t] : 0;
                embd_row(m, &m->tok_embd, ids[t], x, E);
                embd_row(m, &m->pos_embd, i, tmp, E);
                for (int32_t e = 0; e < E; e++) x[e] += tmp[e];
                embd_row(m, &m->type_embd, tt, tmp, E);
                for (int32_t e = 0; e < E; e++) x[e] += tmp[e];
            }
        }
        layernorm_rows(f, f->x, &m->embd_ln_w, &m->embd_ln_b);
    }

    attn_job aj = {
        .qkv = f->qkv, .ctx = f->ctx, .seq_lens = seq_lens, .n_head = hp->n_head, .hd = E / hp->n_head,
        .E = E, .scale = 1.0f / sqrtf((float)(E / hp->n_head)), .scratch = f->thread,
        .scratch_stride = f->l.thread_stride / 4,
    };
    // Where each sequence starts in the concatenated batch.
    int32_t *starts = (int32_t *)(void *)(base + f->l.starts);
    for (int32_t s = 0, acc = 0; s < n_seq; s++) {
        starts[s] = acc;
        acc += seq_lens[s];
    }
    aj.seq_start = starts;

    const int act = epi_act(m->act);
    if (cls_only && hp->n_layer == 0) gather_cls(f, starts, n_seq);
    for (int32_t il = 0; il < hp->n_layer; il++) {
        const bert_layer *ly = &m->layers[il];
        // 2. Fused Q|K|V projection of all tokens: qkv = x Wqkv^T + bqkv.
        if ((st = linear(f, f->n_tok, &ly->wqkv, &ly->bqkv, f->x, E, f->qkv, 3 * E, NULL, BERT_EPI_NONE, f->ctx)))
            return st;
        // 3. Self-attention per (sequence, head): softmax(q k^T / sqrt(head_dim)) v -> ctx. The
        //    last layer of a cls_only pass: [CLS] queries only, and from here on n_seq rows.
        if (cls_only && il == hp->n_layer - 1) {
            aj.cls_only = 1;
            gather_cls(f, starts, n_seq);
        }
        bert_parallel_for(m->pool, n_seq * hp->n_head, attn_task, &aj);
        // 4. Output projection + residual (in place into x), then LayerNorm.
        if ((st = linear(f, f->n_tok, &ly->wo, &ly->bo, f->ctx, E, f->x, E, f->x, BERT_EPI_NONE, f->qkv)))
            return st;
        layernorm_rows(f, f->x, &ly->ln1_w, &ly->ln1_b);
        // 5. FFN, FFN_CHUNK tokens at a time: ff = act(x Wi^T + bi); x = ff Wo2^T + bo2 + x;
        //    then LayerNorm.
        for (int32_t c0 = 0; c0 < f->n_tok; c0 += FFN_CHUNK) {
            const int32_t rows = f->n_tok - c0 < FFN_CHUNK ? f->n_tok - c0 : FFN_CHUNK;
            float *xc = f->x + (int64_t)c0 * E;
            if ((st = linear(f, rows, &ly->wi, &ly->bi, xc, E, f->ff, F, NULL, act, f->qkv))) return st;
            if ((st = linear(f, rows, &ly->wo2, &ly->bo2, f->ff, F, xc, E, xc, BERT_EPI_NONE, f->qkv))) return st;
        }
        layernorm_rows(f, f->x, &ly->ln2_w, &ly->ln2_b);
    }
    return BERT_STATUS_OK;
}

// ---------------------------------------------------------------------------------------------
// Pooling and heads

static void l2_normalize(float *v, int32_t n) {
    double ss = 0;
    for (int32_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
    const double norm = sqrt(ss);
    const float inv = (float)(1.0 / (norm > 1e-12 ? norm : 1e-12)); // sentence-transformers' clamp
    for (int32_t i = 0; i < n; i++) v[i] *= inv;
}

// Dot product of a weight row of any storage type with f32 x; row is dequantized into tmp.
static float row_dot(const bert_model *m, const bert_tensor *w, int32_t r, const float *x, float *tmp) {
    const int32_t n = w->ne0;
    bert_dequantize_row(w->type, (const char *)w->data + (uint64_t)r * bert_row_size(w->type, n), tmp, n);
    double acc = 0;
    for (int32_t i = 0; i < n; i++) acc += (double)tmp[i] * x[i];
    for (int32_t j = 0; j < w->n_outl; j++) // outlier columns (zero in the quantized row)
        acc += (double)bert_f16_to_f32(w->outl[(int64_t)j * w->ne1 + r]) * x[m->outl_idx[j]];
    return (float)acc;
}

static int64_t total_tokens(const int32_t *seq_lens, int32_t n_seq) {
    int64_t n = 0;
    for (int32_t s = 0; s < n_seq; s++) n += seq_lens[s] > 0 ? seq_lens[s] : 0;
    return n;
}

bert_status bert_encode(bert_model *m, const int32_t *ids, const int32_t *type_ids, const int32_t *seq_lens,
                        int32_t n_seq, float *out, size_t out_cap) {
    if (!m) return BERT_STATUS_INVALID_ARGUMENT;
    const int32_t E = m->hp.n_embd;
    const int pooling = m->hp.pooling == BERT_POOLING_DEFAULT ? BERT_POOLING_MEAN : m->hp.pooling;
    if (!out || !seq_lens || n_seq < 1 || n_seq > m->hp.max_batch)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "bert_encode: out, seq_lens and 1 <= n_seq <= %d required",
                         m->hp.max_batch);
    const int64_t n_out = pooling == BERT_POOLING_NONE ? total_tokens(seq_lens, n_seq) : n_seq;
    if ((uint64_t)out_cap < (uint64_t)n_out * (uint64_t)E)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "bert_encode: out holds %zu floats, %lld needed", out_cap,
                         (long long)(n_out * E));
    fwd f;
    bert_status st = forward(&f, m, ids, type_ids, seq_lens, n_seq, pooling == BERT_POOLING_CLS);
    if (st) return st;

    // 6. Pooling over each sequence's tokens, then the optional L2 normalization.
    if (pooling == BERT_POOLING_NONE) { // one vector per token, not normalized
        memcpy(out, f.x, (size_t)f.n_tok * (size_t)E * 4);
        return BERT_STATUS_OK;
    }
    int64_t t0 = 0;
    for (int32_t s = 0; s < n_seq; s++) {
        const int32_t n = seq_lens[s];
        const float *h = f.x + t0 * E;
        float *o = out + (int64_t)s * E;
        if (pooling == BERT_POOLING_CLS) {
            memcpy(o, f.x + (int64_t)s * E, (size_t)E * 4); // forward kept only [CLS] rows
        } else if (pooling == BERT_POOLING_MAX) {
            memcpy(o, h, (size_t)E * 4);
            for (int32_t i = 1; i < n; i++)
                for (int32_t e = 0; e < E; e++)
                    if (h[(int64_t)i * E + e] > o[e]) o[e] = h[(int64_t)i * E + e];
        } else { // mean
            for (int32_t e = 0; e < E; e++) {
                double acc = 0;
                for (int32_t i = 0; i < n; i++) acc += h[(int64_t)i * E + e];
                o[e] = (float)(acc / n);
            }
        }
        if (m->hp.normalize) l2_normalize(o, E);
        t0 += n;
    }
    return BERT_STATUS_OK;
}

bert_status bert_classify(bert_model *m, const int32_t *ids, const int32_t *type_ids, const int32_t *seq_lens,
                          int32_t n_seq, float *out, size_t out_cap) {
    if (!m) return BERT_STATUS_INVALID_ARGUMENT;
    const int32_t E = m->hp.n_embd, nl = m->hp.n_labels;
    if (nl <= 0 || !m->cls_w.data)
        return bert_fail(m->err, BERT_STATUS_UNSUPPORTED, "bert_classify: the model has no classifier head");
    if (!mat_ok(&m->cls_w, nl, E) || (m->cls_b.data && !vec_ok(&m->cls_b, nl)) ||
        (m->pool_w.data && (!mat_ok(&m->pool_w, E, E) || !vec_ok(&m->pool_b, E))))
        return bert_fail(m->err, BERT_STATUS_BAD_MODEL, "bert_classify: pooler/classifier shapes do not match");
    if (!out || !seq_lens || n_seq < 1 || n_seq > m->hp.max_batch)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "bert_classify: out, seq_lens and 1 <= n_seq <= %d required",
                         m->hp.max_batch);
    if ((uint64_t)out_cap < (uint64_t)n_seq * (uint64_t)nl)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "bert_classify: out holds %zu floats, %lld needed", out_cap,
                         (long long)n_seq * nl);
    fwd f;
    bert_status st = forward(&f, m, ids, type_ids, seq_lens, n_seq, 1);
    if (st) return st;

    // 6. Head on each sequence's [CLS] state (row s: forward kept only those): pooled =
    //    tanh(Wp h + bp) (BertPooler, when the checkpoint has one), logits = Wc pooled + bc.
    float *tmp = f.thread, *pooled = f.thread + E; // thread 0 scratch is free now
    for (int32_t s = 0; s < n_seq; s++) {
        const float *h = f.x + (int64_t)s * E;
        if (m->pool_w.data) {
            for (int32_t o = 0; o < E; o++)
                pooled[o] = tanhf(row_dot(m, &m->pool_w, o, h, tmp) + ((const float *)m->pool_b.data)[o]);
        } else {
            memcpy(pooled, h, (size_t)E * 4);
        }
        for (int32_t l = 0; l < nl; l++)
            out[(int64_t)s * nl + l] =
                row_dot(m, &m->cls_w, l, pooled, tmp) + (m->cls_b.data ? ((const float *)m->cls_b.data)[l] : 0.0f);
    }
    return BERT_STATUS_OK;
}
