// kernels.h - compute kernels of the forward pass (internal). Each SIMD128 kernel has a scalar
// reference twin (suffix _ref) that tests/test_kernels.c holds it against with explicit bounds.
//
// NaN policy: NaN inputs never crash and never vanish silently: a NaN in a LayerNorm or softmax row
// makes that whole row NaN; the GEMM and GELU propagate NaN element-wise (IEEE arithmetic). The
// activation quantizer maps NaN to 0 (integers cannot hold it) - weights and activations are
// NaN-free in any working model. LayerNorm works in f32: rows whose squared deviations overflow f32
// (|x| beyond ~1e18) give 0 rows; hidden states are many orders of magnitude below that.
#ifndef BERT_KERNELS_H
#define BERT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

enum {
    BERT_EPI_NONE = 0,
    BERT_EPI_GELU = 1,      // 0.5 x (1 + erf(x / sqrt 2))
    BERT_EPI_GELU_TANH = 2, // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    BERT_EPI_RELU = 3,
};

// Activations quantized for integer dot products (against q8_0 / q4_0 weights): a row of n values
// (n % 32 == 0) becomes n integers in [-BERT_ACT_QMAX, BERT_ACT_QMAX] with one f32 scale per group
// of BERT_ACT_GROUP values (the last group may be shorter; x ~= d * q). The GEMM sums a whole
// group (four 32-value weight blocks, their scales brought to the group's largest when the panel is
// widened: widen_panel in kernels.c) in int32 before it touches a float, which is what bounds the
// integers: 128 * 8191 * 2032 < 2^31 (weights widened to at most 16 * 127). 13 bits per 128 values
// are still 30x finer than the q8 weights' own step (and than onnxruntime's per-tensor uint8).
#define BERT_ACT_QMAX 8191
#define BERT_ACT_GROUP 128
static inline int32_t bert_act_groups(int32_t n) { return (n + BERT_ACT_GROUP - 1) / BERT_ACT_GROUP; }
void bert_quantize_act(const float *x, int64_t n, int16_t *q, float *d);
void bert_quantize_act_ref(const float *x, int64_t n, int16_t *q, float *d);

// Y[t, o] = act(sum_k X[t, k] * W[o, k] + bias[o]) + res[t, o]  (W in PyTorch Linear layout).
typedef struct {
    int32_t n_tok, n_in;            // rows of X (tokens), reduction length K
    const float *x;                 // f32 activations, rows ldx apart (f32 / f16 weights)
    int64_t ldx;
    const int16_t *xq;              // quantized activations (q8_0 / q4_0 weights): n_tok rows of
    const float *xd;                // n_in int16 and bert_act_groups(n_in) scales, densely packed
    bert_type wtype;                // weights: rows of n_in values in wtype, w_row bytes apart
    const void *w;
    uint64_t w_row;
    float *y;                       // output rows, ldy apart
    int64_t ldy;
    const float *bias;              // (n_out) or NULL
    const float *res;               // added after the activation, or NULL; may equal y (in place)
    int64_t ldr;
    int act;                        // BERT_EPI_*
    // Outlier input columns kept exact outside w (model.h): y[t, o] also gets
    // sum_c x[t, outl_idx[c]] * outl[c * outl_ld + o] (f16 weights, f32 x read at those columns),
    // before the bias and the activation. n_outl = 0: none.
    int32_t n_outl;                 // 0 .. BERT_GEMM_OUTL_MAX
    const int32_t *outl_idx;
    const uint16_t *outl;
    int64_t outl_ld;
} bert_gemm_args;

#define BERT_GEMM_OUTL_MAX 8

// Outputs per packed weight panel: ranges split at multiples of it (threads) re-lay out no panel twice.
#define BERT_GEMM_PANEL 8

// Computes outputs o in [o0, o1) for all tokens. Distinct ranges can run on distinct threads.
// scratch: bert_gemm_scratch_floats(n_in) floats owned by the calling thread.
void bert_gemm(const bert_gemm_args *a, int32_t o0, int32_t o1, float *scratch);
// Scalar twin: accumulates in double (the reference the SIMD result is bounded against).
void bert_gemm_ref(const bert_gemm_args *a, int32_t o0, int32_t o1);
size_t bert_gemm_scratch_floats(int32_t n_in);

// Attention scores of one head: out[i, j] = q_i . k_j for i < ni (1..4), j < n, over hd dims; q
// rows ldq floats apart; the keys transposed by bert_attn_pack_keys: kt[d * ldk + j], ldk a
// multiple of 8 >= n (columns past n repeat the last key).
void bert_attn_pack_keys(const float *k, int64_t ldk_rows, int32_t n, int32_t hd, float *kt, int64_t ldk);
void bert_attn_qk(const float *q, int64_t ldq, int32_t ni, const float *kt, int64_t ldk, int32_t n, int32_t hd,
                  float *out, int64_t ldo);
void bert_attn_qk_ref(const float *q, int64_t ldq, int32_t ni, const float *kt, int64_t ldk, int32_t n, int32_t hd,
                      float *out, int64_t ldo);

// Attention's weighted sum of values: out[i, d] = sum_j p[i, j] * v[j, d] for i < ni (1..4),
// j < n, d < hd; rows of p, v and out are ldp, ldv and ldo floats apart (v read in place).
void bert_attn_pv(const float *p, int64_t ldp, int32_t ni, int32_t n, const float *v, int64_t ldv, int32_t hd,
                  float *out, int64_t ldo);
void bert_attn_pv_ref(const float *p, int64_t ldp, int32_t ni, int32_t n, const float *v, int64_t ldv, int32_t hd,
                      float *out, int64_t ldo);

// In place over one row of n values.
void bert_layernorm(float *x, int32_t n, const float *w, const float *b, float eps);
void bert_layernorm_ref(float *x, int32_t n, const float *w, const float *b, float eps);
// softmax(scale * x); scale > 0.
void bert_softmax(float *x, int32_t n, float scale);
void bert_softmax_ref(float *x, int32_t n, float scale);
void bert_gelu(float *x, int64_t n);
void bert_gelu_ref(float *x, int64_t n); // libm erff
void bert_gelu_tanh(float *x, int64_t n);
void bert_gelu_tanh_ref(float *x, int64_t n); // libm tanhf
// e^x for a row (used by tests to bound the vector exp; the softmax/GELU kernels inline it).
void bert_exp(const float *x, float *y, int64_t n);
// IEEE half -> float for a row (SIMD twin of bert_f16_to_f32 in common.c).
void bert_f16_row_to_f32(const uint16_t *h, float *y, int64_t n);

#endif
