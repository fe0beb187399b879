// bert.h - bertwasm public C API: BERT-family encoders (sentence embeddings, cross-encoder
// reranking) loaded by streaming model bytes under an explicit memory budget.
//
// Usage:
//
//   bert_load_params p = bert_load_default_params();
//   p.wtype = BERT_TYPE_Q8_0;
//   p.memory_budget = 256u << 20;
//   bert_loader *ld;
//   bert_model *m;
//   if (bert_loader_init(&ld, &p) != BERT_STATUS_OK) return -1;    // only fails on OOM
//   if (bert_loader_add_file(ld, "config.json", cfg, cfg_len) ||   // small files first
//       bert_loader_add_file(ld, "tokenizer.json", tok, tok_len))
//       goto fail;
//   while ((n = read(fd, buf, sizeof buf)) > 0)                     // then the weights,
//       if (bert_loader_write(ld, buf, (size_t)n)) goto fail;       // in chunks of any size
//   if (bert_loader_finish(ld, &m)) goto fail;
//   bert_loader_free(ld);                                           // spent once finished
//   const char *texts[] = {"hello world"};
//   float vec[384];                                                 // bert_model_dim(m) floats
//   if (bert_embed_texts(m, texts, NULL, 1, vec, 384)) fprintf(stderr, "%s\n", bert_model_error(m));
//   bert_model_free(m);
//   return 0;
//  fail:
//   fprintf(stderr, "%s\n", bert_loader_error(ld));
//   bert_loader_free(ld);
//   return -1;
//
// Errors: every call that can fail returns a bert_status; the object it was called on keeps a
// readable message of its last failure (bert_loader_error, bert_model_error; a later success does
// not clear it, so read it only after a failing call). The library never prints, exits or aborts.
//
// Thread safety: distinct objects may be used from distinct threads. One model must not be used by
// two threads at once (calls write into its single activation workspace); wrap calls in a lock or
// queue them. Models are read-only after load except for that workspace (and the error message:
// the const bert_tokenize* calls write it on failure, so the same rule applies to them).
// fork(): a model loaded with n_threads > 1 keeps working in a child process, single-threaded
// there (its worker threads exist only in the parent).
//
// Memory: the plan (bert_plan) is computed from config.json, the tokenizer files and the
// safetensors header alone. A plan over memory_budget fails with BERT_STATUS_BUDGET_EXCEEDED before
// any weight byte is consumed. After bert_loader_finish nothing allocates. The budget covers what
// stays resident: before the plan exists, parsing the small files (tokenizer.json above all) also
// holds transient memory of a few times their size, freed before the weights arrive.
#ifndef BERT_H
#define BERT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BERT_VERSION "0.1.0"
#define BERT_MAX_THREADS 256 // bert_load_params.n_threads above it is taken as it

typedef enum {
    BERT_STATUS_OK = 0,
    BERT_STATUS_INVALID_ARGUMENT = 1, // caller passed something unusable (NULL, too small a buffer)
    BERT_STATUS_BAD_MODEL = 2,        // malformed, truncated or inconsistent model files
    BERT_STATUS_UNSUPPORTED = 3,      // well-formed but not supported (dtype I8, unknown activation)
    BERT_STATUS_BUDGET_EXCEEDED = 4,  // the memory plan does not fit memory_budget
    BERT_STATUS_OUT_OF_MEMORY = 5,    // the system allocator refused
    BERT_STATUS_BAD_STATE = 6,        // call out of order (weights before config, write after finish)
} bert_status;

const char *bert_status_name(bert_status s); // "BUDGET_EXCEEDED", ...

// Storage types; values follow ggml's type ids so GGUF can be added later.
typedef enum {
    BERT_TYPE_DEFAULT = -1, // bert_load_params.embd_type only: the same as wtype
    BERT_TYPE_F32 = 0,
    BERT_TYPE_F16 = 1,
    BERT_TYPE_Q4_0 = 2,
    BERT_TYPE_Q8_0 = 8,
} bert_type;

const char *bert_type_name(bert_type t); // "f32", "f16", "q4_0", "q8_0"

typedef enum {
    BERT_POOLING_DEFAULT = -1, // from 1_Pooling/config.json, else mean
    BERT_POOLING_NONE = 0,     // one vector per token
    BERT_POOLING_MEAN = 1,
    BERT_POOLING_CLS = 2,
    BERT_POOLING_MAX = 3,
} bert_pooling;

typedef struct {
    bert_type wtype;          // storage of the encoder's weight matrices (default q8_0)
    bert_type embd_type;      // storage of the embedding tables (default BERT_TYPE_DEFAULT: = wtype)
    uint64_t memory_budget;   // bytes for the whole plan; 0 = no limit
    int32_t max_tokens;       // per sequence incl. [CLS]/[SEP]; 0 = the model's effective maximum
    int32_t max_batch;        // sequences per bert_encode call (default 8)
    int32_t pooling;          // bert_pooling
    int32_t normalize;        // -1 = from the files (2_Normalize / default on), 0 = off, 1 = on
    int32_t n_threads;        // worker threads for the forward pass (builds with threads only), at most
                              // BERT_MAX_THREADS (more is taken as that; the plan counts each thread)
} bert_load_params;

bert_load_params bert_load_default_params(void);

// The memory plan: exact bytes, fixed at header time.
typedef struct {
    uint64_t weights;     // encoder + embedding tensors after conversion/quantization
    uint64_t vocab;       // tokenizer tables
    uint64_t activations; // forward-pass workspace for max_tokens x max_batch
    uint64_t staging;     // the streaming conversion window
    uint64_t total;       // sum of the above (plus small fixed structs)
    uint64_t file_size;   // expected size of model.safetensors
    uint64_t header_size; // 8 + JSON header length: bytes read before the plan exists
    int32_t max_tokens;
    int32_t max_batch;
    bert_type wtype;
    bert_type embd_type;
} bert_plan;

// The largest plan a 32-bit build (wasm32) can load: the model lives in one allocation, and malloc
// on 32-bit targets (dlmalloc in wasi-libc and Emscripten) refuses any single request of half the
// address space or more. 64-bit hosts allow 1 TiB. Plans over the limit fail at header time.
#define BERT_PLAN_LIMIT_32BIT ((2ull << 30) - (1ull << 20))

// Human-readable one-line description of a plan; returns the length that was needed.
size_t bert_plan_describe(const bert_plan *plan, char *buf, size_t buf_size);

// ---------------------------------------------------------------------------------------------
// Loader: a push state machine. Small files are added whole, then model.safetensors is pushed in
// chunks of any size. Once the header is complete the plan exists and the budget is checked.

typedef struct bert_loader bert_loader;

bert_status bert_loader_init(bert_loader **out, const bert_load_params *params);
void bert_loader_free(bert_loader *l);
const char *bert_loader_error(const bert_loader *l);

// name: the file's path inside the model folder: "config.json", "tokenizer.json", "vocab.txt",
// "tokenizer_config.json", "special_tokens_map.json", "modules.json", "1_Pooling/config.json",
// "sentence_bert_config.json". Unknown names are ignored. Any order among them (tokenizer.json wins
// over vocab.txt), all before the first weight byte; config.json and a tokenizer are required. The
// data is not retained.
bert_status bert_loader_add_file(bert_loader *l, const char *name, const void *data, size_t n);

// model.safetensors bytes, in order.
bert_status bert_loader_write(bert_loader *l, const void *data, size_t n);

// 1 once the safetensors header has been parsed (and the plan checked against the budget).
int bert_loader_has_plan(const bert_loader *l);
bert_status bert_loader_get_plan(const bert_loader *l, bert_plan *out);
uint64_t bert_loader_bytes_written(const bert_loader *l);

// All bytes arrived: checks completeness and hands over the model. The loader keeps nothing.
typedef struct bert_model bert_model;
bert_status bert_loader_finish(bert_loader *l, bert_model **out);

// ---------------------------------------------------------------------------------------------
// Model

typedef struct {
    int32_t n_vocab;
    int32_t n_max_pos;    // max_position_embeddings
    int32_t n_type_vocab; // type_vocab_size
    int32_t n_embd;       // hidden_size
    int32_t n_head;
    int32_t n_layer;
    int32_t n_ff;         // intermediate_size
    int32_t n_labels;     // > 0 for a cross-encoder (classifier head present)
    int32_t max_tokens;   // as planned
    int32_t max_batch;
    int32_t pooling;      // bert_pooling in effect
    int32_t normalize;    // 0/1 in effect
    float layer_norm_eps;
} bert_hparams;

void bert_model_free(bert_model *m);
const char *bert_model_error(const bert_model *m);
const bert_hparams *bert_model_hparams(const bert_model *m);
bert_status bert_model_get_plan(const bert_model *m, bert_plan *out);
// Output floats per sequence of bert_embed_texts / bert_encode with pooling (n_embd).
int32_t bert_model_dim(const bert_model *m);

// Tokenization. ids/type_ids/offsets have room for cap tokens (offsets: 2 per token, byte
// [begin, end) in the input; specials get [0, 0]); type_ids and offsets may be NULL. info gets the
// counts in every case: when the (truncated) encoding has more than cap tokens the call returns
// BERT_STATUS_INVALID_ARGUMENT and the buffers hold nothing usable, except that ids NULL with cap 0
// asks for the counts alone (BERT_STATUS_OK). max_tokens 0 = the model's effective maximum.
// Invalid UTF-8 is decoded like the WHATWG TextDecoder (U+FFFD, then dropped by the cleaner).
// info is zeroed on argument errors. Texts may be up to 256 MiB - 1 byte (INT32_MAX / 8; for a pair,
// the two together); all of a text is read to count n_untruncated,
// so the time grows with its length even when only max_tokens are kept.
typedef struct {
    int32_t n_tokens;      // tokens written, incl. specials, after truncation
    int32_t n_untruncated; // tokens the input would give without truncation, incl. specials
} bert_encoding_info;

bert_status bert_tokenize(const bert_model *m, const char *text, size_t n_text, int32_t max_tokens,
                          int32_t *ids, int32_t *type_ids, int32_t *offsets, int32_t cap,
                          bert_encoding_info *info);
// [CLS] a [SEP] b [SEP] with type ids 0/1; truncation longest-first.
bert_status bert_tokenize_pair(const bert_model *m, const char *a, size_t n_a, const char *b,
                               size_t n_b, int32_t max_tokens, int32_t *ids, int32_t *type_ids,
                               int32_t *offsets, int32_t cap, bert_encoding_info *info);

// Forward pass over a ragged batch: n_seq sequences whose ids are concatenated (seq_lens[i] each,
// sum <= max_tokens * max_batch, each <= max_tokens, n_seq <= max_batch). type_ids may be NULL.
// With pooling: out gets n_seq x n_embd floats; with BERT_POOLING_NONE: sum(seq_lens) x n_embd.
bert_status bert_encode(bert_model *m, const int32_t *ids, const int32_t *type_ids,
                        const int32_t *seq_lens, int32_t n_seq, float *out, size_t out_cap);

// Cross-encoder: raw classifier logits, n_seq x n_labels.
bert_status bert_classify(bert_model *m, const int32_t *ids, const int32_t *type_ids,
                          const int32_t *seq_lens, int32_t n_seq, float *out, size_t out_cap);

// Convenience: tokenize + encode any number of texts (split into max_batch groups).
// lens may be NULL (NUL-terminated texts). out: n x bert_model_dim floats (pooling required).
bert_status bert_embed_texts(bert_model *m, const char *const *texts, const size_t *lens, int32_t n,
                             float *out, size_t out_cap);
// Convenience: cross-encoder scores (first logit) of (query, docs[i]) pairs; out gets n floats.
// A model without a classifier head: BERT_STATUS_UNSUPPORTED (as bert_classify).
bert_status bert_score_pairs(bert_model *m, const char *query, size_t n_query,
                             const char *const *docs, const size_t *doc_lens, int32_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif
