// model.c - the model-level public API: accessors, tokenization, and the allocation-free
// convenience calls bert_embed_texts / bert_score_pairs (tokenize into the arena's token buffers,
// then bert_encode / bert_classify in groups of at most max_batch sequences).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bert.h"
#include "common.h"
#include "forward.h"
#include "model.h"
#include "threads.h"
#include "tokenizer.h"

const char *bert_status_name(bert_status s) {
    switch (s) {
    case BERT_STATUS_OK: return "OK";
    case BERT_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case BERT_STATUS_BAD_MODEL: return "BAD_MODEL";
    case BERT_STATUS_UNSUPPORTED: return "UNSUPPORTED";
    case BERT_STATUS_BUDGET_EXCEEDED: return "BUDGET_EXCEEDED";
    case BERT_STATUS_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case BERT_STATUS_BAD_STATE: return "BAD_STATE";
    }
    return "UNKNOWN";
}

const char *bert_type_name(bert_type t) {
    switch (t) {
    case BERT_TYPE_F32: return "f32";
    case BERT_TYPE_F16: return "f16";
    case BERT_TYPE_Q4_0: return "q4_0";
    case BERT_TYPE_Q8_0: return "q8_0";
    case BERT_TYPE_DEFAULT: break; // not a storage type
    }
    return "?";
}

bert_load_params bert_load_default_params(void) {
    bert_load_params p;
    memset(&p, 0, sizeof p);
    p.wtype = BERT_TYPE_Q8_0;
    p.embd_type = BERT_TYPE_DEFAULT; // same as wtype (resolved by bert_loader_init)
    p.memory_budget = 0;
    p.max_tokens = 0;
    p.max_batch = 8;
    p.pooling = BERT_POOLING_DEFAULT;
    p.normalize = -1;
    p.n_threads = 1;
    return p;
}

size_t bert_plan_describe(const bert_plan *p, char *buf, size_t cap) {
    char t[24], w[24], a[24], v[24], s[24], types[40];
    if (!p) return 0;
    if (p->wtype == p->embd_type) snprintf(types, sizeof types, "%s", bert_type_name(p->wtype));
    else snprintf(types, sizeof types, "%s, embeddings %s", bert_type_name(p->wtype), bert_type_name(p->embd_type));
    int n = snprintf(buf, buf ? cap : 0, "%s (weights %s %s, activations %s at %dx%d tokens, vocab %s, staging %s)",
                     bert_format_bytes(p->total, t, sizeof t), bert_format_bytes(p->weights, w, sizeof w), types,
                     bert_format_bytes(p->activations, a, sizeof a), (int)p->max_batch, (int)p->max_tokens,
                     bert_format_bytes(p->vocab, v, sizeof v), bert_format_bytes(p->staging, s, sizeof s));
    return n < 0 ? 0 : (size_t)n;
}

void bert_model_free(bert_model *m) {
    if (!m) return;
    bert_threadpool_free(m->pool);
    bert_tokenizer_free(m->tok);
    free(m->arena); // m lives inside its arena
}

const char *bert_model_error(const bert_model *m) { return m ? m->err : "no model"; }

const bert_hparams *bert_model_hparams(const bert_model *m) { return m ? &m->hp : NULL; }

bert_status bert_model_get_plan(const bert_model *m, bert_plan *out) {
    if (!m || !out) return BERT_STATUS_INVALID_ARGUMENT;
    *out = m->plan;
    return BERT_STATUS_OK;
}

int32_t bert_model_dim(const bert_model *m) { return m ? m->hp.n_embd : 0; }

// The error buffer is the only thing a const model call writes (a message on failure).
static char *merr(const bert_model *m) { return (char *)m->err; }

static bert_status tokenize(const bert_model *m, const char *a, size_t n_a, const char *b, size_t n_b,
                            int32_t max_tokens, int32_t *ids, int32_t *type_ids, int32_t *offsets, int32_t cap,
                            bert_encoding_info *info) {
    if (info) info->n_tokens = info->n_untruncated = 0; // "in every case" (bert.h), argument errors too
    if (!m) return BERT_STATUS_INVALID_ARGUMENT;
    if ((!a && n_a) || (b == NULL && n_b) || max_tokens < 0 || cap < 0 || (cap > 0 && !ids))
        return bert_fail(merr(m), BERT_STATUS_INVALID_ARGUMENT,
                         "tokenize: NULL text with a length, NULL ids, or negative max_tokens/cap");
    if (max_tokens == 0) max_tokens = m->hp.max_tokens;
    return bert_tokenizer_encode(m->tok, a ? a : "", n_a, b, n_b, max_tokens, ids, type_ids, offsets, cap, info,
                                 merr(m));
}

bert_status bert_tokenize(const bert_model *m, const char *text, size_t n_text, int32_t max_tokens, int32_t *ids,
                          int32_t *type_ids, int32_t *offsets, int32_t cap, bert_encoding_info *info) {
    return tokenize(m, text, n_text, NULL, 0, max_tokens, ids, type_ids, offsets, cap, info);
}

bert_status bert_tokenize_pair(const bert_model *m, const char *a, size_t n_a, const char *b, size_t n_b,
                               int32_t max_tokens, int32_t *ids, int32_t *type_ids, int32_t *offsets, int32_t cap,
                               bert_encoding_info *info) {
    if (m && !b) {
        if (info) info->n_tokens = info->n_untruncated = 0;
        return bert_fail(merr(m), BERT_STATUS_INVALID_ARGUMENT, "tokenize_pair: second text is NULL");
    }
    return tokenize(m, a, n_a, b ? b : "", n_b, max_tokens, ids, type_ids, offsets, cap, info);
}

bert_status bert_embed_texts(bert_model *m, const char *const *texts, const size_t *lens, int32_t n, float *out,
                             size_t out_cap) {
    if (!m) return BERT_STATUS_INVALID_ARGUMENT;
    if (n < 0 || (n > 0 && (!texts || !out)))
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "embed_texts: NULL texts/out or negative count");
    if (m->hp.pooling == BERT_POOLING_NONE)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT,
                         "embed_texts needs pooling; with BERT_POOLING_NONE use bert_encode");
    const size_t dim = (size_t)m->hp.n_embd;
    if ((size_t)n > out_cap / dim)
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "embed_texts: out holds %zu floats, %d texts need %zu",
                         out_cap, (int)n, (size_t)n * dim);
    const int32_t T = m->hp.max_tokens, B = m->hp.max_batch;
    for (int32_t i = 0; i < n;) {
        int32_t nb = n - i < B ? n - i : B;
        int32_t off = 0;
        for (int32_t j = 0; j < nb; j++) {
            const char *t = texts[i + j];
            size_t len = lens ? lens[i + j] : (t ? strlen(t) : 0);
            if (!t && len)
                return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "embed_texts: text %d is NULL", (int)(i + j));
            bert_encoding_info info;
            bert_status st = bert_tokenizer_encode(m->tok, t ? t : "", len, NULL, 0, T, m->io_ids + off,
                                                   m->io_type_ids + off, NULL, T, &info, m->err);
            if (st) return st;
            m->io_lens[j] = info.n_tokens;
            off += info.n_tokens;
        }
        bert_status st = bert_encode(m, m->io_ids, m->io_type_ids, m->io_lens, nb, out + (size_t)i * dim,
                                     out_cap - (size_t)i * dim);
        if (st) return st;
        i += nb;
    }
    return BERT_STATUS_OK;
}

bert_status bert_score_pairs(bert_model *m, const char *query, size_t n_query, const char *const *docs,
                             const size_t *doc_lens, int32_t n, float *out) {
    if (!m) return BERT_STATUS_INVALID_ARGUMENT;
    if (m->hp.n_labels <= 0)
        return bert_fail(m->err, BERT_STATUS_UNSUPPORTED, "score_pairs needs a cross-encoder (classifier head)");
    if (n < 0 || (n > 0 && (!docs || !out)) || (!query && n_query))
        return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "score_pairs: NULL docs/out/query or negative count");
    const int32_t T = m->hp.max_tokens, B = m->hp.max_batch, L = m->hp.n_labels;
    for (int32_t i = 0; i < n;) {
        int32_t nb = n - i < B ? n - i : B;
        int32_t off = 0;
        for (int32_t j = 0; j < nb; j++) {
            const char *d = docs[i + j];
            size_t len = doc_lens ? doc_lens[i + j] : (d ? strlen(d) : 0);
            if (!d && len)
                return bert_fail(m->err, BERT_STATUS_INVALID_ARGUMENT, "score_pairs: doc %d is NULL", (int)(i + j));
            bert_encoding_info info;
            bert_status st = bert_tokenizer_encode(m->tok, query ? query : "", n_query, d ? d : "", len, T,
                                                   m->io_ids + off, m->io_type_ids + off, NULL, T, &info, m->err);
            if (st) return st;
            m->io_lens[j] = info.n_tokens;
            off += info.n_tokens;
        }
        bert_status st = bert_classify(m, m->io_ids, m->io_type_ids, m->io_lens, nb, m->io_logits, (size_t)nb * (size_t)L);
        if (st) return st;
        for (int32_t j = 0; j < nb; j++) out[i + j] = m->io_logits[(size_t)j * (size_t)L];
        i += nb;
    }
    return BERT_STATUS_OK;
}
