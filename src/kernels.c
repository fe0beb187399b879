// kernels.c - SIMD128 kernels of the forward pass and their scalar reference twins.
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "common.h"
#include "quant.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#else
#include <simde/wasm/simd128.h>
#endif

#if defined(__GNUC__)
#define BERT_INLINE static inline __attribute__((always_inline))
#else
#define BERT_INLINE static inline
#endif

#define F4(v) wasm_f32x4_splat(v)
#define I4(v) wasm_i32x4_splat(v)

static inline int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// Vector math

// e^x, |rel err| ~ 2 ulp. Range reduction x = n ln2 + r (Cody-Waite split of ln2), a degree-6
// polynomial for e^r on [-ln2/2, ln2/2], then 2^n through the exponent bits. Inputs are clamped
// to [-80, 88.3] and below -80 the result is exactly 0: e^-80 = 1.8e-35 is far enough above the
// smallest normal float that softmax probabilities (divided by a sum <= n_tokens) and GELU tails
// built from it never become subnormal, which x86 (native and under V8) computes ~100x slower.
// pmin/pmax keep a NaN operand (x first).
BERT_INLINE v128_t exp_v(v128_t x) {
    const v128_t under = wasm_f32x4_lt(x, F4(-80.0f));
    x = wasm_f32x4_pmax(x, F4(-80.0f));
    x = wasm_f32x4_pmin(x, F4(88.3f));
    v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, F4(1.44269504088896341f)));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, F4(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, F4(-2.12194440e-4f)));
    v128_t p = F4(1.9875691500e-4f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.3981999507e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(8.3334519073e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(4.1665795894e-2f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.6666665459e-1f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(5.0000001201e-1f));
    p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), F4(1.0f));
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), I4(127)), 23);
    return wasm_v128_andnot(wasm_f32x4_mul(p, e), under); // underflow to exactly 0 (NaN kept)
}

// GELU, erf form. 1 + erf(x/sqrt2) is computed as 2 - erfc(z) or erfc(z) with z = |x|/sqrt2, so
// the negative side has no cancellation. erfc(z) ~= t P(t) e^(-z^2), t = 1/(1 + p z)
// (Abramowitz & Stegun 7.1.26, |abs err| <= 1.5e-7).
BERT_INLINE v128_t gelu_v(v128_t x) {
    v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(x), F4(0.70710678118654752f));
    v128_t t = wasm_f32x4_div(F4(1.0f), wasm_f32x4_add(F4(1.0f), wasm_f32x4_mul(z, F4(0.3275911f))));
    v128_t p = F4(1.061405429f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(-1.453152027f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(1.421413741f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(-0.284496736f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(0.254829592f));
    p = wasm_f32x4_mul(p, t);
    v128_t q = wasm_f32x4_mul(p, exp_v(wasm_f32x4_neg(wasm_f32x4_mul(z, z)))); // erfc(z)
    v128_t pos = wasm_f32x4_ge(x, F4(0.0f));
    v128_t one_plus_erf = wasm_v128_bitselect(wasm_f32x4_sub(F4(2.0f), q), q, pos);
    return wasm_f32x4_mul(wasm_f32x4_mul(F4(0.5f), x), one_plus_erf);
}

// GELU, tanh form: 0.5 x (1 + tanh(u)) == x / (1 + e^(-2u)).
BERT_INLINE v128_t gelu_tanh_v(v128_t x) {
    v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
    v128_t u = wasm_f32x4_mul(F4(0.7978845608028654f), wasm_f32x4_add(x, wasm_f32x4_mul(F4(0.044715f), x3)));
    v128_t e = exp_v(wasm_f32x4_mul(u, F4(-2.0f)));
    return wasm_f32x4_div(x, wasm_f32x4_add(F4(1.0f), e));
}

BERT_INLINE v128_t act_v(v128_t v, int act) {
    switch (act) {
    case BERT_EPI_GELU: return gelu_v(v);
    case BERT_EPI_GELU_TANH: return gelu_tanh_v(v);
    case BERT_EPI_RELU: return wasm_f32x4_pmax(v, F4(0.0f)); // keeps NaN
    default: return v;
    }
}

static float act_ref(float v, int act) {
    switch (act) {
    case BERT_EPI_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case BERT_EPI_GELU_TANH:
        return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case BERT_EPI_RELU: return v < 0.0f ? 0.0f : v;
    default: return v;
    }
}

// Horizontal sums of four vectors at once: [sum a, sum b, sum c, sum d].
BERT_INLINE v128_t reduce4_f32(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}
BERT_INLINE v128_t reduce4_i32(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

static inline float hsum_f32(v128_t v) {
    return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
           (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}
static inline float hmax_f32(v128_t v) {
    float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
    float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
    a = b > a ? b : a;
    c = d > c ? d : c;
    return c > a ? c : a;
}

// Four IEEE halves (zero-extended to u32 lanes) -> f32. Shifting exponent+mantissa into place
// and multiplying by 2^112 rebiases normals and subnormals alike; inf/NaN are patched.
BERT_INLINE v128_t half4_to_f32(v128_t h) {
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, I4(0x8000)), 16);
    v128_t em = wasm_i32x4_shl(wasm_v128_and(h, I4(0x7FFF)), 13);
    v128_t f = wasm_f32x4_mul(em, F4(0x1p112f));
    v128_t special = wasm_i32x4_eq(wasm_v128_and(h, I4(0x7C00)), I4(0x7C00));
    v128_t infnan = wasm_v128_or(em, I4(0x7F800000));
    return wasm_v128_or(wasm_v128_bitselect(infnan, f, special), sign);
}

void bert_f16_row_to_f32(const uint16_t *h, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, half4_to_f32(wasm_u32x4_load16x4(h + i)));
    for (; i < n; i++) y[i] = bert_f16_to_f32(h[i]);
}

void bert_exp(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, exp_v(wasm_v128_load(x + i)));
    if (i < n) {
        float tmp[4] = {0, 0, 0, 0};
        memcpy(tmp, x + i, (size_t)(n - i) * 4);
        wasm_v128_store(tmp, exp_v(wasm_v128_load(tmp)));
        memcpy(y + i, tmp, (size_t)(n - i) * 4);
    }
}

// Applies an element-wise vector op to a row; the tail goes through a padded vector so the
// scalar tail gives bit-identical results to the body.
#define ROW_MAP(x, n, OP)                                                                          \
    do {                                                                                           \
        int64_t i_ = 0;                                                                            \
        for (; i_ + 4 <= (n); i_ += 4) wasm_v128_store((x) + i_, OP(wasm_v128_load((x) + i_)));    \
        if (i_ < (n)) {                                                                            \
            float t_[4] = {0, 0, 0, 0};                                                            \
            memcpy(t_, (x) + i_, (size_t)((n) - i_) * 4);                                          \
            wasm_v128_store(t_, OP(wasm_v128_load(t_)));                                           \
            memcpy((x) + i_, t_, (size_t)((n) - i_) * 4);                                          \
        }                                                                                          \
    } while (0)

void bert_gelu(float *x, int64_t n) { ROW_MAP(x, n, gelu_v); }
void bert_gelu_tanh(float *x, int64_t n) { ROW_MAP(x, n, gelu_tanh_v); }
void bert_gelu_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = act_ref(x[i], BERT_EPI_GELU);
}
void bert_gelu_tanh_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = act_ref(x[i], BERT_EPI_GELU_TANH);
}

// ---------------------------------------------------------------------------------------------
// LayerNorm and softmax (one row, in place)

// Two passes: a first mean, then deviations from it. The deviations' own mean c corrects the
// first mean without rounding it into a float near the data (which would cost precision when the
// offset is large against the spread): xhat = ((x - mean) - c) * rstd, var = E[d^2] - c^2.
void bert_layernorm(float *x, int32_t n, const float *w, const float *b, float eps) {
    v128_t s = F4(0.0f);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) s = wasm_f32x4_add(s, wasm_v128_load(x + i));
    float sum = hsum_f32(s);
    for (; i < n; i++) sum += x[i];
    const float mean = sum / (float)n;
    v128_t vm = F4(mean), s1 = F4(0.0f), s2 = F4(0.0f);
    for (i = 0; i + 4 <= n; i += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(x + i), vm);
        s1 = wasm_f32x4_add(s1, d);
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(d, d));
    }
    float sd = hsum_f32(s1), sdd = hsum_f32(s2);
    for (; i < n; i++) {
        sd += x[i] - mean;
        sdd += (x[i] - mean) * (x[i] - mean);
    }
    const float c = sd / (float)n;
    float var = sdd / (float)n - c * c;
    if (var < 0.0f) var = 0.0f;
    const float rstd = 1.0f / sqrtf(var + eps);
    v128_t vc = F4(c), vr = F4(rstd);
    for (i = 0; i + 4 <= n; i += 4) {
        v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + i), vm), vc), vr);
        wasm_v128_store(x + i, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(w + i)), wasm_v128_load(b + i)));
    }
    for (; i < n; i++) x[i] = ((x[i] - mean) - c) * rstd * w[i] + b[i];
}

void bert_layernorm_ref(float *x, int32_t n, const float *w, const float *b, float eps) {
    double sum = 0, var = 0;
    for (int32_t i = 0; i < n; i++) sum += x[i];
    double mean = sum / n;
    for (int32_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    double rstd = 1.0 / sqrt(var / n + (double)eps);
    for (int32_t i = 0; i < n; i++) x[i] = (float)((x[i] - mean) * rstd * w[i] + b[i]);
}

void bert_softmax(float *x, int32_t n, float scale) {
    v128_t m = F4(-INFINITY), nan = wasm_i32x4_splat(0);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        m = wasm_f32x4_pmax(m, v);
        nan = wasm_v128_or(nan, wasm_f32x4_ne(v, v));
    }
    float mx = hmax_f32(m);
    int has_nan = wasm_v128_any_true(nan);
    for (; i < n; i++) {
        if (x[i] != x[i]) has_nan = 1;
        if (x[i] > mx) mx = x[i];
    }
    if (has_nan) { // defined behavior: the whole row becomes NaN
        for (i = 0; i < n; i++) x[i] = NAN;
        return;
    }
    v128_t vm = F4(mx), vs = F4(scale), acc = F4(0.0f);
    for (i = 0; i + 4 <= n; i += 4) {
        v128_t e = exp_v(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i), vm), vs));
        wasm_v128_store(x + i, e);
        acc = wasm_f32x4_add(acc, e);
    }
    float sum = hsum_f32(acc);
    if (i < n) {
        float t[4] = {mx, mx, mx, mx};
        memcpy(t, x + i, (size_t)(n - i) * 4);
        wasm_v128_store(t, exp_v(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(t), vm), vs)));
        for (int32_t j = 0; j < n - i; j++) {
            x[i + j] = t[j];
            sum += t[j];
        }
    }
    v128_t inv = F4(1.0f / sum);
    for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), inv));
    for (; i < n; i++) x[i] *= 1.0f / sum;
}

void bert_softmax_ref(float *x, int32_t n, float scale) {
    float mx = -INFINITY;
    for (int32_t i = 0; i < n; i++) {
        if (x[i] != x[i]) {
            for (int32_t j = 0; j < n; j++) x[j] = NAN;
            return;
        }
        if (x[i] > mx) mx = x[i];
    }
    double sum = 0;
    for (int32_t i = 0; i < n; i++) sum += (x[i] = expf((x[i] - mx) * scale));
    for (int32_t i = 0; i < n; i++) x[i] = (float)(x[i] / sum);
}

// ---------------------------------------------------------------------------------------------
// Activation quantization

void bert_quantize_act(const float *x, int64_t n, int16_t *q, float *d) {
    for (int64_t b = 0; b < n / QK; b++, x += QK, q += QK) {
        v128_t m = F4(0.0f);
        for (int j = 0; j < QK; j += 4) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(x + j)));
        const float amax = hmax_f32(m);
        const float s = amax / (float)BERT_ACT_QMAX;
        const float id = s != 0.0f ? 1.0f / s : 0.0f;
        d[b] = s;
        v128_t vid = F4(id);
        for (int j = 0; j < QK; j += 8) {
            // nearest is round-half-even like nearbyintf; trunc_sat maps NaN to 0
            v128_t a = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + j), vid)));
            v128_t c = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + j + 4), vid)));
            v128_t v = wasm_i16x8_narrow_i32x4(a, c);
            v = wasm_i16x8_min(wasm_i16x8_max(v, wasm_i16x8_splat(-BERT_ACT_QMAX)), wasm_i16x8_splat(BERT_ACT_QMAX));
            wasm_v128_store(q + j, v);
        }
    }
}

void bert_quantize_act_ref(const float *x, int64_t n, int16_t *q, float *d) {
    for (int64_t b = 0; b < n / QK; b++, x += QK, q += QK) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = fabsf(x[j]);
            if (a > amax) amax = a;
        }
        const float s = amax / (float)BERT_ACT_QMAX;
        const float id = s != 0.0f ? 1.0f / s : 0.0f;
        d[b] = s;
        for (int j = 0; j < QK; j++) {
            float v = nearbyintf(x[j] * id);
            if (v != v) v = 0.0f;
            q[j] = (int16_t)(v > BERT_ACT_QMAX ? BERT_ACT_QMAX : v < -BERT_ACT_QMAX ? -BERT_ACT_QMAX : (int)v);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM: 4 tokens x 4 outputs per tile; each loaded weight vector is reused by several tokens and
// each activation vector by four outputs. Edge tiles repeat the last valid row (clamped pointers)
// and store only the valid part, so there is one code path.

BERT_INLINE void tile_f32(const float *const *xr, const float *const *wr, int32_t K, v128_t out[4]) {
    // two passes of 2 tokens x 4 outputs: 8 accumulators + 2 activation vectors + 1 weight vector
    // stay in the 16 SIMD registers V8 has on x64 (a 4 x 4 pass spills: ~40% slower under V8)
    for (int tp = 0; tp < 4; tp += 2) {
        v128_t acc[2][4];
        for (int t = 0; t < 2; t++)
            for (int o = 0; o < 4; o++) acc[t][o] = F4(0.0f);
        int32_t k = 0;
        for (; k + 4 <= K; k += 4) {
            const v128_t x0 = wasm_v128_load(xr[tp] + k), x1 = wasm_v128_load(xr[tp + 1] + k);
            for (int o = 0; o < 4; o++) {
                const v128_t w = wasm_v128_load(wr[o] + k);
                acc[0][o] = wasm_f32x4_add(acc[0][o], wasm_f32x4_mul(x0, w));
                acc[1][o] = wasm_f32x4_add(acc[1][o], wasm_f32x4_mul(x1, w));
            }
        }
        for (int t = 0; t < 2; t++) out[tp + t] = reduce4_f32(acc[t][0], acc[t][1], acc[t][2], acc[t][3]);
        if (k < K) {
            float tail[2][4] = {{0}};
            for (; k < K; k++)
                for (int t = 0; t < 2; t++)
                    for (int o = 0; o < 4; o++) tail[t][o] += xr[tp + t][k] * wr[o][k];
            for (int t = 0; t < 2; t++) out[tp + t] = wasm_f32x4_add(out[tp + t], wasm_v128_load(tail[t]));
        }
    }
}

// Widens a panel's four weight rows to int16 once per token block, block-interleaved:
// pw[(b * 4 + o) * 32 + j]. The tile then feeds i32x4.dot_i16x8_s straight from memory for q8_0
// and q4_0 alike, instead of re-widening (and unpacking nibbles) for every group of four tokens.
static void widen_panel(int is_q4, const uint8_t *const *wr, int32_t nb, int16_t *pw) {
    const size_t bs = is_q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    for (int32_t b = 0; b < nb; b++) {
        for (int o = 0; o < 4; o++) {
            const uint8_t *qs = wr[o] + (size_t)b * bs + 2;
            int16_t *d = pw + ((size_t)b * 4 + o) * QK;
            v128_t lo, hi;
            if (is_q4) {
                const v128_t v = wasm_v128_load(qs);
                lo = wasm_i8x16_sub(wasm_v128_and(v, wasm_i8x16_splat(0x0F)), wasm_i8x16_splat(8));
                hi = wasm_i8x16_sub(wasm_u8x16_shr(v, 4), wasm_i8x16_splat(8));
            } else {
                lo = wasm_v128_load(qs);
                hi = wasm_v128_load(qs + 16);
            }
            wasm_v128_store(d, wasm_i16x8_extend_low_i8x16(lo));
            wasm_v128_store(d + 8, wasm_i16x8_extend_high_i8x16(lo));
            wasm_v128_store(d + 16, wasm_i16x8_extend_low_i8x16(hi));
            wasm_v128_store(d + 24, wasm_i16x8_extend_high_i8x16(hi));
        }
    }
}

// Integer tile on a widened panel: per block, exact int32 dot products of the int16 activations
// with the int16 weights (i32x4.dot_i16x8_s), the four outputs' sums transposed into one vector
// and scaled by d_w[o] * d_x[t]. sc: the panel's weight scales as f32, sc[b * 4 + o].
BERT_INLINE void tile_w16(const int16_t *const *xq, const float *const *xd, const int16_t *pw,
                          const float *sc, int32_t nb, v128_t out[4]) {
    v128_t acc[4] = {F4(0.0f), F4(0.0f), F4(0.0f), F4(0.0f)};
    for (int32_t b = 0; b < nb; b++) {
        const int16_t *w = pw + (size_t)b * 4 * QK;
        const v128_t ws = wasm_v128_load(sc + (size_t)b * 4);
        for (int t = 0; t < 4; t++) {
            const int16_t *x = xq[t] + (size_t)b * QK;
            const v128_t x0 = wasm_v128_load(x), x1 = wasm_v128_load(x + 8);
            const v128_t x2 = wasm_v128_load(x + 16), x3 = wasm_v128_load(x + 24);
            v128_t s[4];
            for (int o = 0; o < 4; o++) {
                const int16_t *wo = w + o * QK;
                v128_t p = wasm_i32x4_add(wasm_i32x4_dot_i16x8(x0, wasm_v128_load(wo)),
                                          wasm_i32x4_dot_i16x8(x1, wasm_v128_load(wo + 8)));
                v128_t q = wasm_i32x4_add(wasm_i32x4_dot_i16x8(x2, wasm_v128_load(wo + 16)),
                                          wasm_i32x4_dot_i16x8(x3, wasm_v128_load(wo + 24)));
                s[o] = wasm_i32x4_add(p, q);
            }
            const v128_t si = reduce4_i32(s[0], s[1], s[2], s[3]);
            const v128_t scale = wasm_f32x4_mul(ws, F4(xd[t][b]));
            acc[t] = wasm_f32x4_add(acc[t], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(si), scale));
        }
    }
    for (int t = 0; t < 4; t++) out[t] = acc[t];
}

// bias, activation, residual, store of one tile (ntt tokens from t, no outputs from p).
BERT_INLINE void tile_store(const bert_gemm_args *a, int32_t t, int32_t ntt, int32_t p, int32_t no,
                            v128_t out[4]) {
    v128_t bias = F4(0.0f);
    if (a->bias) {
        if (no == 4) {
            bias = wasm_v128_load(a->bias + p);
        } else {
            float tb[4] = {0, 0, 0, 0};
            memcpy(tb, a->bias + p, (size_t)no * 4);
            bias = wasm_v128_load(tb);
        }
    }
    for (int32_t i = 0; i < ntt; i++) {
        v128_t v = act_v(wasm_f32x4_add(out[i], bias), a->act);
        float *y = a->y + (int64_t)(t + i) * a->ldy + p;
        const float *r = a->res ? a->res + (int64_t)(t + i) * a->ldr + p : NULL;
        if (no == 4) {
            if (r) v = wasm_f32x4_add(v, wasm_v128_load(r));
            wasm_v128_store(y, v);
        } else {
            float tv[4];
            wasm_v128_store(tv, v);
            for (int32_t o = 0; o < no; o++) y[o] = r ? tv[o] + r[o] : tv[o];
        }
    }
}

#define GEMM_TOKEN_BLOCK 64 // tokens per pass over the weight panels: keeps activations in cache

size_t bert_gemm_scratch_floats(int32_t n_in) {
    const size_t k = (size_t)(n_in > 0 ? n_in : 0);
    // f16: 4 rows of f32 (4k); q8_0/q4_0: 4 * k/32 scales + 4 pad + 4k int16 (2k floats)
    return 4 * k + 8;
}

void bert_gemm(const bert_gemm_args *a, int32_t o0, int32_t o1, float *scratch) {
    const int32_t K = a->n_in, nt = a->n_tok, nb = K / QK;
    const int quant = a->wtype == BERT_TYPE_Q8_0 || a->wtype == BERT_TYPE_Q4_0;
    const size_t bs = a->wtype == BERT_TYPE_Q4_0 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    // quantized panels: f32 scales (4 * nb floats), then the widened weights (4 * K int16)
    int16_t *pw = quant ? (int16_t *)(void *)(scratch + (size_t)4 * nb + 4) : NULL;
    for (int32_t t0 = 0; t0 < nt; t0 += GEMM_TOKEN_BLOCK) {
        const int32_t t1 = min_i32(nt, t0 + GEMM_TOKEN_BLOCK);
        for (int32_t p = o0; p < o1; p += 4) {
            const int32_t no = min_i32(4, o1 - p);
            // The panel: four weight rows (the last one repeated at the edge).
            const uint8_t *wr[4];
            const float *wf[4] = {NULL, NULL, NULL, NULL};
            for (int o = 0; o < 4; o++)
                wr[o] = (const uint8_t *)a->w + (uint64_t)(p + min_i32(o, no - 1)) * a->w_row;
            if (a->wtype == BERT_TYPE_F32) {
                for (int o = 0; o < 4; o++) wf[o] = (const float *)(const void *)wr[o];
            } else if (a->wtype == BERT_TYPE_F16) { // dequantize the panel once per token block
                for (int o = 0; o < no; o++)
                    bert_f16_row_to_f32((const uint16_t *)(const void *)wr[o], scratch + (size_t)o * K, K);
                for (int o = 0; o < 4; o++) wf[o] = scratch + (size_t)min_i32(o, no - 1) * K;
            } else { // panel scales to f32, interleaved so one load gives the four outputs' scales
                widen_panel(a->wtype == BERT_TYPE_Q4_0, wr, nb, pw);
                for (int32_t b = 0; b < nb; b++) {
                    uint16_t h[4];
                    for (int o = 0; o < 4; o++) memcpy(&h[o], wr[o] + (size_t)b * bs, 2);
                    wasm_v128_store(scratch + (size_t)b * 4, half4_to_f32(wasm_i32x4_make(h[0], h[1], h[2], h[3])));
                }
            }
            for (int32_t t = t0; t < t1; t += 4) {
                const int32_t ntt = min_i32(4, t1 - t);
                v128_t out[4];
                if (quant) {
                    const int16_t *xq[4];
                    const float *xd[4];
                    for (int i = 0; i < 4; i++) {
                        const int64_t row = t + min_i32(i, ntt - 1);
                        xq[i] = a->xq + row * K;
                        xd[i] = a->xd + row * nb;
                    }
                    tile_w16(xq, xd, pw, scratch, nb, out);
                } else {
                    const float *xr[4];
                    for (int i = 0; i < 4; i++) xr[i] = a->x + (int64_t)(t + min_i32(i, ntt - 1)) * a->ldx;
                    tile_f32(xr, wf, K, out);
                }
                tile_store(a, t, ntt, p, no, out);
            }
        }
    }
}

void bert_gemm_ref(const bert_gemm_args *a, int32_t o0, int32_t o1) {
    const int32_t K = a->n_in, nb = K / QK;
    for (int32_t o = o0; o < o1; o++) {
        const uint8_t *w = (const uint8_t *)a->w + (uint64_t)o * a->w_row;
        for (int32_t t = 0; t < a->n_tok; t++) {
            double acc = 0;
            switch (a->wtype) {
            case BERT_TYPE_F32:
            case BERT_TYPE_F16: {
                const float *x = a->x + (int64_t)t * a->ldx;
                for (int32_t k = 0; k < K; k++) {
                    float wk;
                    if (a->wtype == BERT_TYPE_F32) {
                        memcpy(&wk, w + (size_t)k * 4, 4);
                    } else {
                        uint16_t h;
                        memcpy(&h, w + (size_t)k * 2, 2);
                        wk = bert_f16_to_f32(h);
                    }
                    acc += (double)x[k] * wk;
                }
                break;
            }
            case BERT_TYPE_Q8_0:
            case BERT_TYPE_Q4_0: {
                const int16_t *xq = a->xq + (int64_t)t * K;
                const float *xd = a->xd + (int64_t)t * nb;
                for (int32_t b = 0; b < nb; b++) {
                    int32_t isum = 0;
                    float dw;
                    if (a->wtype == BERT_TYPE_Q8_0) {
                        const block_q8_0 *blk = (const block_q8_0 *)(const void *)(w + (size_t)b * sizeof(block_q8_0));
                        dw = bert_f16_to_f32(blk->d);
                        for (int j = 0; j < QK; j++) isum += xq[b * QK + j] * blk->qs[j];
                    } else {
                        const block_q4_0 *blk = (const block_q4_0 *)(const void *)(w + (size_t)b * sizeof(block_q4_0));
                        dw = bert_f16_to_f32(blk->d);
                        for (int j = 0; j < QK / 2; j++) {
                            isum += xq[b * QK + j] * ((blk->qs[j] & 0x0F) - 8);
                            isum += xq[b * QK + j + QK / 2] * ((blk->qs[j] >> 4) - 8);
                        }
                    }
                    acc += (double)isum * dw * xd[b];
                }
                break;
            }
            }
            float v = (float)(acc + (a->bias ? a->bias[o] : 0.0f));
            v = act_ref(v, a->act);
            if (a->res) v += a->res[(int64_t)t * a->ldr + o];
            a->y[(int64_t)t * a->ldy + o] = v;
        }
    }
}
