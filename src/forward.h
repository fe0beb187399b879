// forward.h - the encoder forward pass over a ragged batch (internal).
#ifndef BERT_FORWARD_H
#define BERT_FORWARD_H

#include "model.h"

// Bytes of workspace the forward pass needs for hp->max_tokens x hp->max_batch tokens
// (n_threads workers). The loader puts exactly this much in the plan ("activations").
uint64_t bert_forward_workspace_size(const bert_hparams *hp, int32_t n_threads);

#endif
