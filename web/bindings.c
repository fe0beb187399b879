// bindings.c - thin C glue for web/index.js over the public API in bert.h: scalar arguments in,
// plain arrays out, so the JS never depends on struct layouts. 64-bit sizes cross as doubles
// (exact below 2^53; wasm32 memory is capped at 4 GiB anyway).
#include <emscripten.h>
#include <stdint.h>

#include "bert.h"
#include "model.h"
#include "tokenizer.h"

// NULL only when the allocator refuses the loader itself.
EMSCRIPTEN_KEEPALIVE bert_loader *bertw_loader_new(int wtype, int embd_type, double budget,
                                                   int max_tokens, int max_batch, int pooling,
                                                   int normalize, int n_threads) {
    bert_load_params p = bert_load_default_params();
    p.wtype = (bert_type)wtype;
    p.embd_type = embd_type < 0 ? p.wtype : (bert_type)embd_type;
    p.memory_budget = budget > 0 ? (uint64_t)budget : 0;
    if (max_tokens > 0) p.max_tokens = max_tokens;
    if (max_batch > 0) p.max_batch = max_batch;
    p.pooling = pooling;
    p.normalize = normalize;
    if (n_threads > 0) p.n_threads = n_threads;
    bert_loader *l = NULL;
    if (bert_loader_init(&l, &p) != BERT_STATUS_OK) return NULL;
    return l;
}

static void plan_to_doubles(const bert_plan *p, double *out) {
    out[0] = (double)p->weights;
    out[1] = (double)p->vocab;
    out[2] = (double)p->activations;
    out[3] = (double)p->staging;
    out[4] = (double)p->total;
    out[5] = (double)p->file_size;
    out[6] = (double)p->header_size;
    out[7] = p->max_tokens;
    out[8] = p->max_batch;
    out[9] = p->wtype;
    out[10] = p->embd_type;
}

// out: 11 doubles (weights, vocab, activations, staging, total, file_size, header_size,
// max_tokens, max_batch, wtype, embd_type).
EMSCRIPTEN_KEEPALIVE int bertw_loader_plan(const bert_loader *l, double *out) {
    bert_plan p;
    bert_status s = bert_loader_get_plan(l, &p);
    if (s == BERT_STATUS_OK) plan_to_doubles(&p, out);
    return s;
}

EMSCRIPTEN_KEEPALIVE int bertw_model_plan(const bert_model *m, double *out) {
    bert_plan p;
    bert_status s = bert_model_get_plan(m, &p);
    if (s == BERT_STATUS_OK) plan_to_doubles(&p, out);
    return s;
}

// Returns the model or NULL with *status set (the message stays in the loader).
EMSCRIPTEN_KEEPALIVE bert_model *bertw_loader_finish(bert_loader *l, int *status) {
    bert_model *m = NULL;
    *status = bert_loader_finish(l, &m);
    return *status == BERT_STATUS_OK ? m : NULL;
}

// out: 13 doubles in bert_hparams order.
EMSCRIPTEN_KEEPALIVE void bertw_model_info(const bert_model *m, double *out) {
    const bert_hparams *h = bert_model_hparams(m);
    out[0] = h->n_vocab;
    out[1] = h->n_max_pos;
    out[2] = h->n_type_vocab;
    out[3] = h->n_embd;
    out[4] = h->n_head;
    out[5] = h->n_layer;
    out[6] = h->n_ff;
    out[7] = h->n_labels;
    out[8] = h->max_tokens;
    out[9] = h->max_batch;
    out[10] = h->pooling;
    out[11] = h->normalize;
    out[12] = h->layer_norm_eps;
}

// Token string of an id (for Model.tokenize); the public API has no such call, so this reads the
// tokenizer owned by the model through its internal header.
EMSCRIPTEN_KEEPALIVE const char *bertw_token(const bert_model *m, int id) {
    return m->tok ? bert_tokenizer_token(m->tok, id) : NULL;
}

EMSCRIPTEN_KEEPALIVE int bertw_threads_supported(void) {
#ifdef BERT_THREADS
    return 1;
#else
    return 0;
#endif
}

// bert_plan_describe of the model's plan into buf; returns the length needed.
EMSCRIPTEN_KEEPALIVE size_t bertw_model_describe(const bert_model *m, char *buf, size_t n) {
    bert_plan p;
    if (bert_model_get_plan(m, &p) != BERT_STATUS_OK) {
        if (n) buf[0] = 0;
        return 0;
    }
    return bert_plan_describe(&p, buf, n);
}
