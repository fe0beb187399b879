// config.h - config.json and the sentence-transformers files (modules.json, 1_Pooling/config.json,
// sentence_bert_config.json) -> hyperparameters and defaults (internal).
#ifndef BERT_CONFIG_H
#define BERT_CONFIG_H

#include <stdint.h>

#include "bert.h"
#include "model.h"

typedef struct {
    // config.json
    int32_t n_vocab, n_max_pos, n_type_vocab, n_embd, n_head, n_layer, n_ff;
    int32_t n_labels;     // num_labels, else len(id2label); 0 when neither is given
    float layer_norm_eps;
    bert_act act;
    // sentence-transformers files; 0 / -1 when absent
    int32_t st_max_seq_length; // sentence_bert_config.json max_seq_length (0: absent)
    int32_t st_pooling;        // 1_Pooling/config.json: bert_pooling, -1 absent, -2 unsupported mode
    char st_pooling_mode[40];  // the unsupported mode's name, for the message
    int32_t st_has_modules;    // modules.json seen
    int32_t st_normalize;      // modules.json lists a Normalize module
} bert_config;

// Sets the defaults for the sentence-transformers part (call once before any parse).
void bert_config_init(bert_config *c);
// config.json: required integer fields, hidden_act, layer_norm_eps, position_embedding_type,
// num_labels / id2label. Checks hidden % heads, positive sizes.
bert_status bert_config_parse(bert_config *c, const char *json, size_t n, char *err);
bert_status bert_config_parse_modules(bert_config *c, const char *json, size_t n, char *err);
bert_status bert_config_parse_pooling(bert_config *c, const char *json, size_t n, char *err);
bert_status bert_config_parse_st(bert_config *c, const char *json, size_t n, char *err);

// Effective max tokens: explicit (> 0) > sentence_bert_config max_seq_length > tokenizer
// model_max_length (tok_max > 0) > max_position_embeddings, capped at max_position_embeddings.
int32_t bert_config_max_tokens(const bert_config *c, int32_t explicit_max, int32_t tok_max);

#endif
