// tokenizer.h - Hugging Face-exact BERT tokenization: BertNormalizer + BertPreTokenizer + WordPiece
// (internal; the public entry points are bert_tokenize / bert_tokenize_pair in bert.h).
#ifndef BERT_TOKENIZER_H
#define BERT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

typedef struct bert_tokenizer bert_tokenizer;

// Build from tokenizer.json (WordPiece model, BertNormalizer options, special tokens, truncation)
// or from vocab.txt (one token per line). err: BERT_ERROR_SIZE bytes for the message.
bert_status bert_tokenizer_from_json(bert_tokenizer **out, const char *json, size_t n, char *err);
bert_status bert_tokenizer_from_vocab_txt(bert_tokenizer **out, const char *txt, size_t n, char *err);
// Apply tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
// model_max_length); options already set by tokenizer.json's normalizer take precedence.
bert_status bert_tokenizer_apply_config(bert_tokenizer *t, const char *json, size_t n, char *err);
void bert_tokenizer_free(bert_tokenizer *t);

uint64_t bert_tokenizer_memory(const bert_tokenizer *t); // bytes held, for the memory plan
int32_t bert_tokenizer_vocab_size(const bert_tokenizer *t);
int32_t bert_tokenizer_token_id(const bert_tokenizer *t, const char *token, size_t n); // -1 if absent
const char *bert_tokenizer_token(const bert_tokenizer *t, int32_t id); // NULL if out of range
// Maximum length declared by the tokenizer files (model_max_length, truncation.max_length),
// huge sentinel values ignored; 0 if none.
int32_t bert_tokenizer_max_length(const bert_tokenizer *t);

// Encodes text a (and b when b != NULL) as [CLS] a [SEP] (b [SEP]), truncated to max_tokens
// (longest-first for pairs). Writes up to cap tokens; type_ids / offsets (2 per token, byte range in
// its own input, specials [0,0]) may be NULL. Never allocates; linear time; any bytes accepted.
// max_tokens <= 0: no truncation. If the (truncated) result exceeds cap: BERT_STATUS_INVALID_ARGUMENT
// with info->n_tokens set to the size needed (cap 0, ids NULL is a size query). One call at a time per
// tokenizer: it uses a one-word scratch area allocated at load (counted in bert_tokenizer_memory).
bert_status bert_tokenizer_encode(const bert_tokenizer *t, const char *a, size_t n_a, const char *b,
                                  size_t n_b, int32_t max_tokens, int32_t *ids, int32_t *type_ids,
                                  int32_t *offsets, int32_t cap, bert_encoding_info *info, char *err);

#endif
