// model.h - the loaded model (internal): hyperparameters, weight tensors, tokenizer, workspace.
// Filled by loader.c, read by forward.c. Read-only after load except the workspace.
#ifndef BERT_MODEL_H
#define BERT_MODEL_H

#include "bert.h"
#include "common.h"
#include "tokenizer.h"

typedef enum {
    BERT_ACT_GELU = 0,      // "gelu": exact erf form
    BERT_ACT_GELU_TANH = 1, // "gelu_new", "gelu_pytorch_tanh", "gelu_fast"
    BERT_ACT_RELU = 2,
} bert_act;

// A 2-D weight matrix in PyTorch Linear layout: ne1 rows (out features) of ne0 values (in
// features), row-major; quantized types are blocks of 32 along a row (ne0 % 32 == 0).
// 1-D tensors (biases, LayerNorm) have ne1 == 1 and are always f32.
typedef struct {
    bert_type type;
    int32_t ne0, ne1;
    void *data;
    uint64_t nbytes;
    // Outlier columns (LLM.int8-style decomposition, loader.c): a quantized tensor that reads the
    // hidden stream (fused Q|K|V, intermediate.dense, pooler, the embedding tables) keeps the model's
    // outlier input columns (bert_model.outl_idx) exact in f16, column j at outl + j * ne1, and holds
    // zeros there in data (a row stored before the outlier dims were known: its columns in data and
    // zeros here; the forward pass adds both). n_outl columns are in use (0: none); outl_nbytes is
    // reserved in the plan (BERT_OUTL_MAX columns) whether used or not.
    uint16_t *outl;
    uint64_t outl_nbytes;
    int32_t n_outl;
    int32_t outl_in_data; // some rows were stored before the outlier dims were known (in data)
} bert_tensor;

#define BERT_OUTL_MAX 8
#define BERT_OUTL_RATIO 6.0f

typedef struct {
    bert_tensor wqkv, bqkv;   // (3*n_embd, n_embd): query rows, then key rows, then value rows
    bert_tensor wo, bo;       // (n_embd, n_embd) attention.output.dense
    bert_tensor ln1_w, ln1_b; // (n_embd) attention.output.LayerNorm
    bert_tensor wi, bi;       // (n_ff, n_embd) intermediate.dense
    bert_tensor wo2, bo2;     // (n_embd, n_ff) output.dense
    bert_tensor ln2_w, ln2_b; // (n_embd) output.LayerNorm
} bert_layer;

struct bert_model {
    bert_hparams hp;
    bert_act act;
    // Storage: tok/pos/type embeddings in params.embd_type, 2-D encoder matrices in params.wtype,
    // 1-D tensors f32. A quantized type falls back to f16 for a tensor whose rows are not a
    // multiple of 32 (n_embd 312, ...): always dispatch on bert_tensor.type.
    bert_tensor tok_embd;          // (n_vocab, n_embd)
    bert_tensor pos_embd;          // (n_max_pos, n_embd)
    bert_tensor type_embd;         // (n_type_vocab, n_embd)
    bert_tensor embd_ln_w, embd_ln_b; // (n_embd)
    bert_layer *layers;            // n_layer, inside the arena
    bert_tensor cls_w, cls_b;      // (n_labels, n_embd), present when hp.n_labels > 0; cls_w is f32
    bert_tensor pool_w, pool_b;    // (n_embd, n_embd) pooler.dense, wtype; kept only when hp.n_labels > 0
                                   // (the classifier reads tanh(pool_w . h[CLS] + pool_b))

    // Outlier hidden dims (ascending): LayerNorm gains above BERT_OUTL_RATIO x their median, from the
    // first LayerNorm gain in the file (real BERTs share these dims across all LayerNorms).
    int32_t n_outl;
    int32_t outl_idx[BERT_OUTL_MAX];

    bert_tokenizer *tok;           // owned
    void *arena;                   // the one allocation: this struct, layer table, weights, workspace,
                                   // token buffers, staging window (size == plan.total - plan.vocab)
    uint64_t arena_size;
    void *work;                    // forward-pass workspace inside the arena
    uint64_t work_size;
    // bert_embed_texts / bert_score_pairs buffers inside the arena (counted in plan.activations)
    int32_t *io_ids, *io_type_ids;  // (max_batch * max_tokens)
    int32_t *io_lens;               // (max_batch)
    float *io_logits;               // (max_batch * max(n_labels, 1))
    // Threads (forward.c / threads.h): the loader sets n_threads = max(1, params.n_threads), sizes
    // the workspace with bert_forward_workspace_size(&hp, n_threads), and may create the pool with
    // bert_threadpool_init(&pool, n_threads) (stays NULL without BERT_THREADS: serial);
    // bert_model_free calls bert_threadpool_free(pool).
    int32_t n_threads;
    struct bert_threadpool *pool;
    bert_plan plan;
    char err[BERT_ERROR_SIZE];
};

#endif
