// kernels.c - SIMD128 kernels of the forward pass and their scalar reference twins.
#include "kernels.h"

#include <math.h>
#include <stdatomic.h>
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

// Keeps a micro-kernel's loop rolled: clang would otherwise unroll it and reorder the whole body
// (loads first), which leaves V8 more live vectors than x64 has registers.
#if defined(__clang__)
#define BERT_NO_UNROLL _Pragma("clang loop unroll(disable)")
#else
#define BERT_NO_UNROLL
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
    // n = round(x / ln2) by adding and removing 1.5 * 2^23 (round-to-nearest-even, as f32x4.nearest),
    // which also leaves n in the low mantissa bits of nm: 2^n is then an integer add and a shift
    // (V8 lowers f32x4.nearest and i32x4.trunc_sat_f32x4_s to 1 and ~8 x64 instructions).
    const v128_t nm = wasm_f32x4_add(wasm_f32x4_mul(x, F4(1.44269504088896341f)), F4(0x1.8p23f));
    v128_t n = wasm_f32x4_sub(nm, F4(0x1.8p23f));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, F4(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, F4(-2.12194440e-4f)));
    v128_t p = F4(1.9875691500e-4f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.3981999507e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(8.3334519073e-3f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(4.1665795894e-2f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(1.6666665459e-1f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), F4(5.0000001201e-1f));
    p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), F4(1.0f));
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(nm, I4(127)), 23); // (n + 127) << 23; 1.5 * 2^23 shifts out
    return wasm_v128_andnot(wasm_f32x4_mul(p, e), under); // underflow to exactly 0 (NaN kept)
}

// GELU, erf form: x (0.5 + 0.5 erf(x / sqrt2)), with 0.5 erf(x / sqrt2) ~= x P(x^2) / Q(x^2) on
// |x| <= 4 sqrt2, a rational fit (scripts/fit_gelu.py: |error| 2.7e-8 before float rounding); past
// that 0.5 erf is within 8e-9 of +-0.5, and the result is x or exactly 0. No exp: about 30 vector
// operations where erfc through A&S 7.1.26 and exp_v took about 45 (GELU was 6.4% of a batch-32
// pass). Cancellation in 0.5 + 0.5 erf on the negative side costs ~1e-7 * |x| absolute, inside
// the test's bound.
BERT_INLINE v128_t gelu_v(v128_t x) {
    const v128_t lim = F4(5.65685425f); // 4 sqrt2
    const v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_neg(lim)), lim); // NaN kept
    const v128_t t = wasm_f32x4_mul(xc, xc);
    v128_t p = F4(1.061291297e-10f);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(-2.198198669e-08f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(3.435094036e-06f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(1.896177277e-04f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(4.633892633e-03f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(3.781128709e-02f));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, t), F4(3.989421085e-01f));
    v128_t q = F4(6.858464540e-05f);
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), F4(1.943304481e-03f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), F4(3.019451636e-02f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), F4(2.614426875e-01f));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), F4(1.0f));
    const v128_t half_erf = wasm_f32x4_div(wasm_f32x4_mul(xc, p), q);
    const v128_t y = wasm_f32x4_mul(x, wasm_f32x4_add(F4(0.5f), half_erf));
    const v128_t y_hi = wasm_v128_bitselect(x, y, wasm_f32x4_gt(x, lim)); // exactly x
    return wasm_v128_andnot(y_hi, wasm_f32x4_lt(x, wasm_f32x4_neg(lim))); // exactly 0
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
    for (int64_t g0 = 0; g0 < n; g0 += BERT_ACT_GROUP, x += BERT_ACT_GROUP, q += BERT_ACT_GROUP) {
        const int gn = n - g0 < BERT_ACT_GROUP ? (int)(n - g0) : BERT_ACT_GROUP; // a multiple of 32
        v128_t m = F4(0.0f);
        for (int j = 0; j < gn; j += 4) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(x + j)));
        const float amax = hmax_f32(m);
        const float s = amax / (float)BERT_ACT_QMAX;
        const float id = s != 0.0f ? 1.0f / s : 0.0f;
        *d++ = s;
        v128_t vid = F4(id);
        for (int j = 0; j < gn; j += 8) {
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
    for (int64_t g0 = 0; g0 < n; g0 += BERT_ACT_GROUP, x += BERT_ACT_GROUP, q += BERT_ACT_GROUP) {
        const int gn = n - g0 < BERT_ACT_GROUP ? (int)(n - g0) : BERT_ACT_GROUP;
        float amax = 0.0f;
        for (int j = 0; j < gn; j++) {
            float a = fabsf(x[j]);
            if (a > amax) amax = a;
        }
        const float s = amax / (float)BERT_ACT_QMAX;
        const float id = s != 0.0f ? 1.0f / s : 0.0f;
        *d++ = s;
        for (int j = 0; j < gn; j++) {
            float v = nearbyintf(x[j] * id);
            if (v != v) v = 0.0f;
            q[j] = (int16_t)(v > BERT_ACT_QMAX ? BERT_ACT_QMAX : v < -BERT_ACT_QMAX ? -BERT_ACT_QMAX : (int)v);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GEMM (dense layers). A panel of 8 weight rows is re-laid out into scratch once per block of
// tokens so that one vector holds 4 outputs - f32/f16 as [k][8] floats, q8_0/q4_0 widened to int16
// as [block][k pair][8 outputs][2] - and the block's activations are interleaved by tiles of 4
// tokens ([k][4 tokens]). The micro-kernel splats one token's activation (or pair) and multiplies
// it against two weight vectors: the accumulators hold outputs in their lanes (no horizontal
// sums), every load serves several products, and all addresses are one pointer plus a constant,
// which V8 folds into the load (on x64 it has 16 SIMD registers and no FMA). Attention's two
// products (bert_attn_qk, bert_attn_pv) use the same splat-against-8 layout.
// Edge tiles repeat the last valid row (tokens or outputs) and store only the valid part.

#define PANEL BERT_GEMM_PANEL // outputs per packed panel (kernels.h)
#define TILE 4             // tokens per micro-kernel tile
// Tokens per pass over a packed panel (multiples of TILE): each pass re-widens the panel. int16
// activations take half the room of f32 ones, so the quantized path packs twice the tokens in the
// same scratch (+1-5% on MiniLM's shapes; 256 was no better, and 128 f32 tokens no faster).
#define GEMM_TOKEN_BLOCK 64
#define GEMM_QTOKEN_BLOCK 128
#define GROUP_BLOCKS (BERT_ACT_GROUP / QK) // q8_0 / q4_0 blocks per activation group
#define F32_CHUNK 64       // k per partial sum: the f32 rounding error grows with 64 + K/64 terms, not K

// Four vectors of 32-bit lanes, transposed: lane i of q0..q3 goes to the vector stored at
// dst + i * stride bytes (used to interleave rows: weight panels and token tiles).
BERT_INLINE void transpose4_store(v128_t q0, v128_t q1, v128_t q2, v128_t q3, void *dst, size_t stride) {
    const v128_t ab0 = wasm_i32x4_shuffle(q0, q1, 0, 4, 1, 5), ab1 = wasm_i32x4_shuffle(q0, q1, 2, 6, 3, 7);
    const v128_t cd0 = wasm_i32x4_shuffle(q2, q3, 0, 4, 1, 5), cd1 = wasm_i32x4_shuffle(q2, q3, 2, 6, 3, 7);
    char *d = dst;
    wasm_v128_store(d, wasm_i32x4_shuffle(ab0, cd0, 0, 1, 4, 5));
    wasm_v128_store(d + stride, wasm_i32x4_shuffle(ab0, cd0, 2, 3, 6, 7));
    wasm_v128_store(d + 2 * stride, wasm_i32x4_shuffle(ab1, cd1, 0, 1, 4, 5));
    wasm_v128_store(d + 3 * stride, wasm_i32x4_shuffle(ab1, cd1, 2, 3, 6, 7));
}

// Rows wr[0..no) (f32 or f16, no <= 8) as pw[k * 8 + o], rows past no zero.
static void pack_panel_f32(bert_type wt, const uint8_t *const *wr, int32_t no, int32_t K, float *pw) {
    int32_t k = 0;
    for (; k + 4 <= K; k += 4) {
        v128_t r[PANEL];
        for (int o = 0; o < PANEL; o++) {
            if (o >= no) r[o] = F4(0.0f);
            else if (wt == BERT_TYPE_F32) r[o] = wasm_v128_load(wr[o] + (size_t)k * 4);
            else r[o] = half4_to_f32(wasm_u32x4_load16x4(wr[o] + (size_t)k * 2));
        }
        for (int h = 0; h < 2; h++) // rows 4h .. 4h + 3 -> lanes of [k][4h .. 4h + 3]
            transpose4_store(r[4 * h], r[4 * h + 1], r[4 * h + 2], r[4 * h + 3], pw + (size_t)k * PANEL + 4 * h,
                             PANEL * sizeof(float));
    }
    for (; k < K; k++) {
        for (int o = 0; o < PANEL; o++) {
            float v = 0.0f;
            if (o < no && wt == BERT_TYPE_F32) memcpy(&v, wr[o] + (size_t)k * 4, 4);
            else if (o < no) {
                uint16_t h;
                memcpy(&h, wr[o] + (size_t)k * 2, 2);
                v = bert_f16_to_f32(h);
            }
            pw[(size_t)k * PANEL + o] = v;
        }
    }
}

// Tokens [t, t + n) of f32 rows as xp[k * 4 + i] (tile-interleaved), rows past n repeat the last.
static void pack_tile_f32(const float *x, int64_t ldx, int32_t t, int32_t n, int32_t K, float *xp) {
    const float *r[TILE];
    for (int i = 0; i < TILE; i++) r[i] = x + (int64_t)(t + min_i32(i, n - 1)) * ldx;
    int32_t k = 0;
    for (; k + 4 <= K; k += 4) {
        transpose4_store(wasm_v128_load(r[0] + k), wasm_v128_load(r[1] + k), wasm_v128_load(r[2] + k),
                         wasm_v128_load(r[3] + k), xp + (size_t)k * TILE, TILE * sizeof(float));
    }
    for (; k < K; k++)
        for (int i = 0; i < TILE; i++) xp[(size_t)k * TILE + i] = r[i][k];
}

// 4 tokens x 8 outputs: 8 accumulators, 2 weight vectors and a splat in registers; out[t * 8 + o]
// (in memory: stored by the first chunk, added to by the others).
static void tile_f32_packed(const float *xp, const float *pw, int32_t K, float *out) {
    if (K <= 0) memset(out, 0, sizeof(float) * TILE * PANEL);
    for (int32_t k0 = 0; k0 < K; k0 += F32_CHUNK) {
        const int32_t nk = min_i32(K - k0, F32_CHUNK);
        const float *x = xp + (size_t)k0 * TILE, *w = pw + (size_t)k0 * PANEL;
        v128_t a00 = F4(0.0f), a01 = F4(0.0f), a10 = F4(0.0f), a11 = F4(0.0f);
        v128_t a20 = F4(0.0f), a21 = F4(0.0f), a30 = F4(0.0f), a31 = F4(0.0f);
BERT_NO_UNROLL
        for (int32_t k = 0; k < nk; k++, x += TILE, w += PANEL) {
            const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
            v128_t xs = wasm_v128_load32_splat(x);
            a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(xs, w0));
            a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(xs, w1));
            xs = wasm_v128_load32_splat(x + 1);
            a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(xs, w0));
            a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(xs, w1));
            xs = wasm_v128_load32_splat(x + 2);
            a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(xs, w0));
            a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(xs, w1));
            xs = wasm_v128_load32_splat(x + 3);
            a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(xs, w0));
            a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(xs, w1));
        }
        const v128_t acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
        for (int i = 0; i < 8; i++)
            wasm_v128_store(out + 4 * i, k0 ? wasm_f32x4_add(wasm_v128_load(out + 4 * i), acc[i]) : acc[i]);
    }
}

// Eight q8_0 / q4_0 rows widened to int16 for i32x4.dot_i16x8_s. Per block b (256 int16):
// pw[b * 256 + j * 16 + o * 2 + {0, 1}] = w[o][32 b + 2 j + {0, 1}] (o < 8: 32-bit lane o % 4 of
// vector 2 j + o / 4 holds output o's k pair j).
// The kernels sum a whole group of GROUP_BLOCKS blocks (an activation group, BERT_ACT_GROUP) in
// int32 and scale once per group, so the group's blocks must share one scale: each row's block
// scales are brought to the group's largest magnitude, D. A block with scale dw (q4_0 scales are
// signed) keeps its values w as round(a m / 2^15), a = w << sh, m = round(32767 dw / D)
// (i16x8.q15mulr_sat_s): sh = 4 for q8_0 and 7 for q4_0 (at most 2032 and 1024 in magnitude, which
// keeps a group's sums inside int32, kernels.h), and the largest block's values stay exactly a.
// The group's scale D / 2^sh goes to sc[group * 8 + o]. The added error per weight, at most
// D (2^-(sh+1) + 3 |w| 2^-16), is 1/32 of a q8 step of the group's largest block (1/256 of q4's).
// Inlined into two call sites with is_q4 a constant: Emscripten's clang 14 scalarizes an i16x8.shl
// by a run-time amount into lane inserts (b1 queries 30% slower).
BERT_INLINE void widen_panel(int is_q4, const uint8_t *const *wr, int32_t nb, int16_t *pw, float *sc) {
    const size_t bs = is_q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    const int sh = is_q4 ? 7 : 4;
    for (int32_t b0 = 0; b0 < nb; b0 += GROUP_BLOCKS) {
        const int gnb = min_i32(GROUP_BLOCKS, nb - b0);
        for (int g = 0; g < 2; g++) { // rows 4g .. 4g + 3
            v128_t dw[GROUP_BLOCKS], dmax = F4(0.0f);
            for (int i = 0; i < gnb; i++) {
                uint16_t h[4];
                for (int o = 0; o < 4; o++) memcpy(&h[o], wr[4 * g + o] + (size_t)(b0 + i) * bs, 2);
                dw[i] = half4_to_f32(wasm_i32x4_make(h[0], h[1], h[2], h[3]));
                dmax = wasm_f32x4_pmax(dmax, wasm_f32x4_abs(dw[i]));
            }
            wasm_v128_store(sc + (size_t)(b0 / GROUP_BLOCKS) * PANEL + 4 * g, wasm_f32x4_mul(dmax, F4(1.0f / (float)(1 << sh))));
            // 32767 / D, with D = 0 (an all-zero group, scale 0 anyway) as 1e-30 so that m is 0
            const v128_t inv = wasm_f32x4_div(F4(32767.0f), wasm_f32x4_pmax(dmax, F4(1e-30f)));
            for (int i = 0; i < gnb; i++) {
                const int32_t b = b0 + i;
                // m per row, rounded to nearest by adding and removing 1.5 * 2^23 (V8 lowers
                // i32x4.trunc_sat_f32x4_s to ~8 instructions), as int16 lanes (m0, m0, .., m3, m3)
                const v128_t m32 = wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(dw[i], inv), F4(0x1.8p23f)), F4(0x1.8p23f));
                const v128_t m16 = wasm_i16x8_narrow_i32x4(m32, m32);
                const v128_t m = wasm_i16x8_shuffle(m16, m16, 0, 0, 1, 1, 2, 2, 3, 3);
                v128_t lo[4], hi[4]; // int8 values k 0..15 and 16..31 of each row
                for (int o = 0; o < 4; o++) {
                    const uint8_t *blk = wr[4 * g + o] + (size_t)b * bs;
                    if (is_q4) {
                        const v128_t v = wasm_v128_load(blk + 2);
                        lo[o] = wasm_i8x16_sub(wasm_v128_and(v, wasm_i8x16_splat(0x0F)), wasm_i8x16_splat(8));
                        hi[o] = wasm_i8x16_sub(wasm_u8x16_shr(v, 4), wasm_i8x16_splat(8));
                    } else {
                        lo[o] = wasm_v128_load(blk + 2);
                        hi[o] = wasm_v128_load(blk + 18);
                    }
                }
                int16_t *d = pw + (size_t)b * PANEL * QK + 8 * g;
                for (int half = 0; half < 2; half++) {
                    const v128_t *r = half ? hi : lo; // 16-bit lane j of r[o]: row o's k pair 8 half + j
                    const v128_t a0 = wasm_i16x8_shuffle(r[0], r[1], 0, 8, 1, 9, 2, 10, 3, 11);
                    const v128_t a1 = wasm_i16x8_shuffle(r[0], r[1], 4, 12, 5, 13, 6, 14, 7, 15);
                    const v128_t b0v = wasm_i16x8_shuffle(r[2], r[3], 0, 8, 1, 9, 2, 10, 3, 11);
                    const v128_t b1v = wasm_i16x8_shuffle(r[2], r[3], 4, 12, 5, 13, 6, 14, 7, 15);
                    const v128_t p[4] = {wasm_i32x4_shuffle(a0, b0v, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, b0v, 2, 6, 3, 7),
                                         wasm_i32x4_shuffle(a1, b1v, 0, 4, 1, 5), wasm_i32x4_shuffle(a1, b1v, 2, 6, 3, 7)};
                    for (int i2 = 0; i2 < 4; i2++) { // p[i2]: k pairs 2 i2 and 2 i2 + 1 of the four rows, int8
                        const int j = 8 * half + 2 * i2;
                        const v128_t wl = wasm_i16x8_shl(wasm_i16x8_extend_low_i8x16(p[i2]), sh);
                        const v128_t wh = wasm_i16x8_shl(wasm_i16x8_extend_high_i8x16(p[i2]), sh);
                        wasm_v128_store(d + j * 16, wasm_i16x8_q15mulr_sat(wl, m));
                        wasm_v128_store(d + (j + 1) * 16, wasm_i16x8_q15mulr_sat(wh, m));
                    }
                }
            }
        }
    }
}

// Quantized activations of tokens [t, t + n) tile-interleaved: per block b, xp[b * 128 + j * 8 +
// i * 2 + {0, 1}] = token i's k pair j, and per activation group g its scale in xs[g * 4 + i]; rows
// past n repeat the last.
static void pack_tile_q(const int16_t *xq, const float *xd, int32_t t, int32_t n, int32_t nb, int16_t *xp, float *xs) {
    const int32_t ng = bert_act_groups(nb * QK);
    const int16_t *r[TILE];
    const float *rd[TILE];
    for (int i = 0; i < TILE; i++) {
        const int64_t row = t + min_i32(i, n - 1);
        r[i] = xq + row * nb * QK;
        rd[i] = xd + row * ng;
    }
    for (int32_t g = 0; g < ng; g++)
        for (int i = 0; i < TILE; i++) xs[(size_t)g * TILE + i] = rd[i][g];
    for (int32_t b = 0; b < nb; b++) {
        for (int32_t j0 = 0; j0 < QK; j0 += 8) { // 4 pairs (8 int16) of each token at a time
            const size_t k = (size_t)b * QK + (size_t)j0;
            transpose4_store(wasm_v128_load(r[0] + k), wasm_v128_load(r[1] + k), wasm_v128_load(r[2] + k),
                             wasm_v128_load(r[3] + k), xp + k * TILE, TILE * 2 * sizeof(int16_t));
        }
    }
}

// One group's exact int32 sums of nt tokens x 8 outputs (s[t * 2 + h]: outputs 4h .. 4h + 3) scaled
// by d_w[o] (ws, the panel's 8 group scales) * d_x[t] (xsb) and stored (first group) or added into
// out[t * 8 + o]. Storing the first group instead of zeroing the tile first: the memset call was
// 1.9% of a batch-32 forward pass (node --cpu-prof). Once per group of 4 blocks rather than per
// block: the GEMM 12% faster (q8, 128 x 384 x 1536, wasm under V8).
BERT_INLINE void add_scaled_block(const v128_t *s, int nt, const float *ws, const float *xsb, float *out, int first) {
    const v128_t ws0 = wasm_v128_load(ws), ws1 = wasm_v128_load(ws + 4);
    for (int i = 0; i < 2 * nt; i++) {
        const v128_t scale = wasm_f32x4_mul(i & 1 ? ws1 : ws0, F4(xsb[i / 2]));
        const v128_t v = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s[i]), scale);
        wasm_v128_store(out + 4 * i, first ? v : wasm_f32x4_add(wasm_v128_load(out + 4 * i), v));
    }
}

// 4 tokens x 8 outputs on a widened panel: per activation group (4 blocks), exact int32 sums in the
// outputs' lanes (a splatted activation pair against two k pair vectors), then scaled by
// d_w[o] * d_x[t] into out[t * 8 + o] (in memory).
static void tile_q_packed(const int16_t *xp, const float *xs, const int16_t *pw, const float *sc, int32_t nb,
                          float *out) {
    if (nb <= 0) memset(out, 0, sizeof(float) * TILE * PANEL);
    for (int32_t b = 0, g = 0; b < nb; b += GROUP_BLOCKS, g++) {
        const int16_t *x = xp + (size_t)b * TILE * QK, *w = pw + (size_t)b * PANEL * QK;
        const int32_t nj = min_i32(GROUP_BLOCKS, nb - b) * QK / 2;
        v128_t s00 = I4(0), s01 = I4(0), s10 = I4(0), s11 = I4(0), s20 = I4(0), s21 = I4(0), s30 = I4(0), s31 = I4(0);
BERT_NO_UNROLL
        for (int32_t j = 0; j < nj; j++, x += 2 * TILE, w += 2 * PANEL) {
            const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 8);
            // one load and four lane shuffles (pshufd): +5% over four load32_splat (vbroadcastss from
            // memory) under V8 on this Zen 3; the f32 kernel is the other way round (its mul/add
            // compete with the shuffles for the same pipes)
            const v128_t x4 = wasm_v128_load(x);
            v128_t xv = wasm_i32x4_shuffle(x4, x4, 0, 0, 0, 0);
            s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(xv, w0));
            s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(xv, w1));
            xv = wasm_i32x4_shuffle(x4, x4, 1, 1, 1, 1);
            s10 = wasm_i32x4_add(s10, wasm_i32x4_dot_i16x8(xv, w0));
            s11 = wasm_i32x4_add(s11, wasm_i32x4_dot_i16x8(xv, w1));
            xv = wasm_i32x4_shuffle(x4, x4, 2, 2, 2, 2);
            s20 = wasm_i32x4_add(s20, wasm_i32x4_dot_i16x8(xv, w0));
            s21 = wasm_i32x4_add(s21, wasm_i32x4_dot_i16x8(xv, w1));
            xv = wasm_i32x4_shuffle(x4, x4, 3, 3, 3, 3);
            s30 = wasm_i32x4_add(s30, wasm_i32x4_dot_i16x8(xv, w0));
            s31 = wasm_i32x4_add(s31, wasm_i32x4_dot_i16x8(xv, w1));
        }
        const v128_t s[8] = {s00, s01, s10, s11, s20, s21, s30, s31};
        add_scaled_block(s, 4, sc + (size_t)g * PANEL, xs + (size_t)g * TILE, out, g == 0);
    }
}

// The last tile of a token block when it holds 1 or 2 tokens (the first two of a packed tile): 2
// tokens x 8 outputs into out[t * 8 + o], t < 2. The 4-token kernel would spend half its work or
// more on repeated rows: a batch-1 query of 25 or 26 tokens runs its GEMMs 4% and 9% faster
// (in-process A/B, MiniLM shapes under V8). Same sums in the same order: results are identical.
static void tile_q_packed2(const int16_t *xp, const float *xs, const int16_t *pw, const float *sc, int32_t nb,
                           float *out) {
    if (nb <= 0) memset(out, 0, sizeof(float) * 2 * PANEL);
    for (int32_t b = 0, g = 0; b < nb; b += GROUP_BLOCKS, g++) {
        const int16_t *x = xp + (size_t)b * TILE * QK, *w = pw + (size_t)b * PANEL * QK;
        const int32_t nj = min_i32(GROUP_BLOCKS, nb - b) * QK / 2;
        v128_t s00 = I4(0), s01 = I4(0), s10 = I4(0), s11 = I4(0);
BERT_NO_UNROLL
        for (int32_t j = 0; j < nj; j++, x += 2 * TILE, w += 2 * PANEL) {
            const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 8);
            v128_t xv = wasm_v128_load32_splat(x);
            s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(xv, w0));
            s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(xv, w1));
            xv = wasm_v128_load32_splat(x + 2);
            s10 = wasm_i32x4_add(s10, wasm_i32x4_dot_i16x8(xv, w0));
            s11 = wasm_i32x4_add(s11, wasm_i32x4_dot_i16x8(xv, w1));
        }
        const v128_t s[4] = {s00, s01, s10, s11};
        add_scaled_block(s, 2, sc + (size_t)g * PANEL, xs + (size_t)g * TILE, out, g == 0);
    }
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

// Outlier columns of outputs [p, p + no) as f32, ow[c * width + o] (zeros past no).
static void outl_weights(const bert_gemm_args *a, int32_t p, int32_t no, int width, float *ow) {
    for (int32_t c = 0; c < a->n_outl; c++)
        for (int o = 0; o < width; o++)
            ow[c * width + o] = o < no ? bert_f16_to_f32(a->outl[(int64_t)c * a->outl_ld + p + o]) : 0.0f;
}

// Adds one token's outlier columns (x: its f32 input row) to `width` outputs, v[width / 4].
BERT_INLINE void add_outl_row(const bert_gemm_args *a, const float *x, const float *ow, int width, v128_t *v) {
    for (int32_t c = 0; c < a->n_outl; c++) {
        const v128_t xv = wasm_f32x4_splat(x[a->outl_idx[c]]);
        for (int h = 0; h < width / 4; h++)
            v[h] = wasm_f32x4_add(v[h], wasm_f32x4_mul(xv, wasm_v128_load(ow + c * width + 4 * h)));
    }
}

// A tile of 8 outputs (tile[r * 8 + o]) for its first ntt tokens: bias, outlier columns (ow, the
// panel's as f32, or NULL), activation and residual, with the activation chosen outside the loop.
// The per-vector path above (a switch and three branches per vector) cost 10-12% of a K = 384
// GEMM under V8.
#define STORE_PANEL_TILE(ACT)                                                                      \
    for (int r = 0; r < ntt; r++) {                                                                \
        float *y = a->y + (int64_t)(t + r) * a->ldy + p;                                           \
        v128_t v0 = wasm_f32x4_add(wasm_v128_load(tile + r * PANEL), b0);                          \
        v128_t v1 = wasm_f32x4_add(wasm_v128_load(tile + r * PANEL + 4), b1);                      \
        if (ow) {                                                                                  \
            v128_t v[2] = {v0, v1};                                                                \
            add_outl_row(a, a->x + (int64_t)(t + r) * a->ldx, ow, PANEL, v);                       \
            v0 = v[0];                                                                             \
            v1 = v[1];                                                                             \
        }                                                                                          \
        v0 = ACT(v0);                                                                              \
        v1 = ACT(v1);                                                                              \
        if (res) {                                                                                 \
            const float *rr = res + (int64_t)(t + r) * a->ldr + p;                                 \
            v0 = wasm_f32x4_add(v0, wasm_v128_load(rr));                                           \
            v1 = wasm_f32x4_add(v1, wasm_v128_load(rr + 4));                                       \
        }                                                                                          \
        wasm_v128_store(y, v0);                                                                    \
        wasm_v128_store(y + 4, v1);                                                                \
    }
#define ACT_NONE(v) (v)
#define ACT_RELU(v) wasm_f32x4_pmax(v, F4(0.0f))
static void store_panel_tile(const bert_gemm_args *a, int32_t t, int32_t ntt, int32_t p, const float *tile, v128_t b0,
                             v128_t b1, const float *ow) {
    const float *res = a->res;
    switch (a->act) {
    case BERT_EPI_GELU: STORE_PANEL_TILE(gelu_v) break;
    case BERT_EPI_GELU_TANH: STORE_PANEL_TILE(gelu_tanh_v) break;
    case BERT_EPI_RELU: STORE_PANEL_TILE(ACT_RELU) break;
    default: STORE_PANEL_TILE(ACT_NONE) break;
    }
}

size_t bert_gemm_scratch_floats(int32_t n_in) {
    const size_t k = (size_t)(n_in > 0 ? n_in : 0);
    // f32/f16: the panel (8k floats) + the packed token block (64k floats); q8_0/q4_0: widened
    // panel (4k) + scales (k/4) in the panel's room, packed activations (64k) + their scales (4k);
    // + the tile, + the panel's outlier columns as f32
    return PANEL * k + GEMM_QTOKEN_BLOCK * k / 2 + GEMM_QTOKEN_BLOCK * k / QK + TILE * PANEL + BERT_GEMM_OUTL_MAX * PANEL + 16;
}

// Reads one word per 64-byte line of [p, p + n) and keeps the result observable: the loads are
// independent, so the CPU has all those cache misses in flight at once, while the next panel's
// rows would otherwise arrive one miss at a time inside the widening loop (wasm has no prefetch
// instruction). Weights are used once per call at batch 1, so they come from DRAM.
static _Atomic uint32_t g_touch_sink; // atomic: every thread stores here (relaxed, no race)
static void touch_lines(const uint8_t *p, uint64_t n) {
    uint32_t acc = 0;
    for (uint64_t i = 0; i < n; i += 64) {
        uint32_t v;
        memcpy(&v, p + i, 4);
        acc ^= v;
    }
    atomic_store_explicit(&g_touch_sink, acc, memory_order_relaxed);
}

void bert_gemm(const bert_gemm_args *a, int32_t o0, int32_t o1, float *scratch) {
    const int32_t K = a->n_in, nt = a->n_tok, nb = K / QK, ng = bert_act_groups(K);
    const int quant = a->wtype == BERT_TYPE_Q8_0 || a->wtype == BERT_TYPE_Q4_0;
    // scratch: tile output | outlier columns | panel (weights, then for quantized weights their
    // scales) | token block
    float *tile = scratch;
    float *ow = scratch + TILE * PANEL;
    float *panel = ow + BERT_GEMM_OUTL_MAX * PANEL;
    float *block = panel + (size_t)PANEL * K;
    int16_t *pw = (int16_t *)(void *)panel;                      // quantized: 8 K int16 ...
    float *sc = panel + (size_t)4 * K;                            // ... then 8 ng scales
    int16_t *xp = (int16_t *)(void *)block;                       // quantized: 128 K int16 ...
    float *xs = block + (size_t)GEMM_QTOKEN_BLOCK * K / 2;        // ... then 128 ng scales
    const int32_t tb = quant ? GEMM_QTOKEN_BLOCK : GEMM_TOKEN_BLOCK;
    for (int32_t t0 = 0; t0 < nt; t0 += tb) {
        const int32_t t1 = min_i32(nt, t0 + tb);
        for (int32_t t = t0; t < t1; t += TILE) { // the token block, tile-interleaved
            const int32_t i = (t - t0) / TILE;
            if (quant) pack_tile_q(a->xq, a->xd, t, min_i32(TILE, t1 - t), nb, xp + (size_t)i * TILE * K, xs + (size_t)i * TILE * ng);
            else pack_tile_f32(a->x, a->ldx, t, min_i32(TILE, t1 - t), K, block + (size_t)i * TILE * K);
        }
        for (int32_t p = o0; p < o1; p += PANEL) {
            const int32_t no = min_i32(PANEL, o1 - p);
            const uint8_t *wr[PANEL];
            for (int o = 0; o < PANEL; o++) wr[o] = (const uint8_t *)a->w + (uint64_t)(p + min_i32(o, no - 1)) * a->w_row;
            if (p + PANEL < o1) // the next panel's rows: contiguous, (o1 - p - 8 capped at 8) rows
                touch_lines(wr[0] + (uint64_t)PANEL * a->w_row, (uint64_t)min_i32(PANEL, o1 - p - PANEL) * a->w_row - 4);
            if (a->wtype == BERT_TYPE_Q4_0) widen_panel(1, wr, nb, pw, sc);
            else if (quant) widen_panel(0, wr, nb, pw, sc);
            else pack_panel_f32(a->wtype, wr, no, K, panel);
            if (a->n_outl) outl_weights(a, p, no, PANEL, ow);
            v128_t b0 = F4(0.0f), b1 = F4(0.0f); // the panel's bias, for full panels
            if (a->bias && no == PANEL) {
                b0 = wasm_v128_load(a->bias + p);
                b1 = wasm_v128_load(a->bias + p + 4);
            }
            for (int32_t t = t0; t < t1; t += TILE) {
                const int32_t ntt = min_i32(TILE, t1 - t), i = (t - t0) / TILE;
                if (quant && ntt <= 2) tile_q_packed2(xp + (size_t)i * TILE * K, xs + (size_t)i * TILE * ng, pw, sc, nb, tile);
                else if (quant) tile_q_packed(xp + (size_t)i * TILE * K, xs + (size_t)i * TILE * ng, pw, sc, nb, tile);
                else tile_f32_packed(block + (size_t)i * TILE * K, panel, K, tile);
                if (no == PANEL) {
                    store_panel_tile(a, t, ntt, p, tile, b0, b1, a->n_outl ? ow : NULL);
                    continue;
                }
                for (int r = 0; r < ntt && a->n_outl; r++) { // a partial panel (ranges not a multiple of 8)
                    v128_t v[2] = {wasm_v128_load(tile + r * PANEL), wasm_v128_load(tile + r * PANEL + 4)};
                    add_outl_row(a, a->x + (int64_t)(t + r) * a->ldx, ow, PANEL, v);
                    wasm_v128_store(tile + r * PANEL, v[0]);
                    wasm_v128_store(tile + r * PANEL + 4, v[1]);
                }
                for (int h = 0; h < 2 && 4 * h < no; h++) {
                    v128_t out[TILE];
                    for (int r = 0; r < TILE; r++) out[r] = wasm_v128_load(tile + min_i32(r, ntt - 1) * PANEL + 4 * h);
                    tile_store(a, t, ntt, p + 4 * h, min_i32(4, no - 4 * h), out);
                }
            }
        }
    }
}

// The head's n keys (rows ldk_rows floats apart) as hd rows of ldk floats; columns n .. ldk - 1
// repeat the last key (computed by the scores kernel, never stored). The scores kernel then splats
// a query value against 8 keys at once, as the dense GEMM does, with no horizontal sums. Once per
// (sequence, head), in 4 x 4 transposes (a scalar copy cost more than the scores themselves).
void bert_attn_pack_keys(const float *k, int64_t ldk_rows, int32_t n, int32_t hd, float *kt, int64_t ldk) {
    if (n <= 0) return;
    for (int32_t j0 = 0; j0 < ldk; j0 += 4) {
        const float *r[4];
        for (int i = 0; i < 4; i++) r[i] = k + (int64_t)min_i32(j0 + i, n - 1) * ldk_rows;
        int32_t d = 0;
        for (; d + 4 <= hd; d += 4)
            transpose4_store(wasm_v128_load(r[0] + d), wasm_v128_load(r[1] + d), wasm_v128_load(r[2] + d),
                             wasm_v128_load(r[3] + d), kt + (int64_t)d * ldk + j0, (size_t)ldk * sizeof(float));
        for (; d < hd; d++) // head sizes that are not multiples of 4
            for (int i = 0; i < 4; i++) kt[(int64_t)d * ldk + j0 + i] = r[i][d];
    }
}

// Attention's two products share one micro-kernel: rows r[0..3] (one value each per step j < n)
// splatted against 8 consecutive floats of w + j * ldw, 8 accumulators, 2 vectors and a splat in
// registers; the first ni rows' first nj (1..8) sums stored to out (rows ldo apart).
BERT_INLINE void rows4_x8(const float *const *r, const float *w, int64_t ldw, int32_t n, int32_t ni, int32_t nj,
                          float *out, int64_t ldo) {
    v128_t a00 = F4(0.0f), a01 = F4(0.0f), a10 = F4(0.0f), a11 = F4(0.0f);
    v128_t a20 = F4(0.0f), a21 = F4(0.0f), a30 = F4(0.0f), a31 = F4(0.0f);
BERT_NO_UNROLL
    for (int32_t j = 0; j < n; j++, w += ldw) {
        const v128_t w0 = wasm_v128_load(w), w1 = wasm_v128_load(w + 4);
        v128_t xs = wasm_v128_load32_splat(r[0] + j);
        a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(xs, w0));
        a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(xs, w1));
        xs = wasm_v128_load32_splat(r[1] + j);
        a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(xs, w0));
        a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(xs, w1));
        xs = wasm_v128_load32_splat(r[2] + j);
        a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(xs, w0));
        a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(xs, w1));
        xs = wasm_v128_load32_splat(r[3] + j);
        a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(xs, w0));
        a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(xs, w1));
    }
    const v128_t acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
    for (int32_t i = 0; i < ni; i++) {
        float *o = out + (int64_t)i * ldo;
        if (nj == 8) {
            wasm_v128_store(o, acc[2 * i]);
            wasm_v128_store(o + 4, acc[2 * i + 1]);
        } else {
            float t[8];
            wasm_v128_store(t, acc[2 * i]);
            wasm_v128_store(t + 4, acc[2 * i + 1]);
            memcpy(o, t, sizeof(float) * (size_t)nj);
        }
    }
}

// Up to 4 query rows x 8 keys per pass (rows4_x8 over the transposed keys). Until session 7 the
// scores went through a direct GEMM kernel (dot products along hd, then a 4-way horizontal sum per
// 4 outputs): about 3% of a batch-32 forward pass; this kernel and the transposition take 2.7%
// there, and 512-token inputs run 10-12% faster.
void bert_attn_qk(const float *q, int64_t ldq, int32_t ni, const float *kt, int64_t ldk, int32_t n, int32_t hd,
                  float *out, int64_t ldo) {
    if (ni <= 0) return;
    const float *qr[4];
    for (int i = 0; i < 4; i++) qr[i] = q + (int64_t)min_i32(i, ni - 1) * ldq;
    for (int32_t j0 = 0; j0 < n; j0 += 8) rows4_x8(qr, kt + j0, ldk, hd, ni, min_i32(8, n - j0), out + j0, ldo);
}

void bert_attn_qk_ref(const float *q, int64_t ldq, int32_t ni, const float *kt, int64_t ldk, int32_t n, int32_t hd,
                      float *out, int64_t ldo) {
    for (int32_t i = 0; i < ni; i++)
        for (int32_t j = 0; j < n; j++) {
            double acc = 0;
            for (int32_t d = 0; d < hd; d++) acc += (double)q[(int64_t)i * ldq + d] * kt[(int64_t)d * ldk + j];
            out[(int64_t)i * ldo + j] = (float)acc;
        }
}

// Four probability rows against the values in place: per 8 dims, 4 x 2 accumulators over j, the
// row's weight splatted against two vectors of V's row j (no transposed copy of V, no k tail for
// sequence lengths that are not multiples of 4, as the earlier direct GEMM over V^T had). Rows past ni
// repeat the last one and are not stored.
void bert_attn_pv(const float *p, int64_t ldp, int32_t ni, int32_t n, const float *v, int64_t ldv, int32_t hd,
                  float *out, int64_t ldo) {
    if (ni <= 0) return;
    const float *pr[4];
    for (int i = 0; i < 4; i++) pr[i] = p + (int64_t)min_i32(i, ni - 1) * ldp;
    int32_t d = 0;
    for (; d + 8 <= hd; d += 8) rows4_x8(pr, v + d, ldv, n, ni, 8, out + d, ldo);
    for (; d < hd; d++) // head sizes that are not multiples of 8
        for (int32_t i = 0; i < ni; i++) {
            float acc = 0.0f;
            for (int32_t j = 0; j < n; j++) acc += pr[i][j] * v[(int64_t)j * ldv + d];
            out[(int64_t)i * ldo + d] = acc;
        }
}

void bert_attn_pv_ref(const float *p, int64_t ldp, int32_t ni, int32_t n, const float *v, int64_t ldv, int32_t hd,
                      float *out, int64_t ldo) {
    for (int32_t i = 0; i < ni; i++)
        for (int32_t d = 0; d < hd; d++) {
            double acc = 0;
            for (int32_t j = 0; j < n; j++) acc += (double)p[(int64_t)i * ldp + j] * v[(int64_t)j * ldv + d];
            out[(int64_t)i * ldo + d] = (float)acc;
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
            case BERT_TYPE_Q4_0: { // per activation group: the blocks at the group's largest scale
                const int16_t *xq = a->xq + (int64_t)t * K;
                const float *xd = a->xd + (int64_t)t * bert_act_groups(K);
                const int is_q4 = a->wtype == BERT_TYPE_Q4_0, sh = is_q4 ? 7 : 4;
                const size_t bs = is_q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
                for (int32_t b0 = 0; b0 < nb; b0 += GROUP_BLOCKS) {
                    const int32_t gnb = min_i32(GROUP_BLOCKS, nb - b0);
                    float dw[GROUP_BLOCKS], dmax = 0.0f;
                    for (int32_t i = 0; i < gnb; i++) {
                        uint16_t h;
                        memcpy(&h, w + (size_t)(b0 + i) * bs, 2);
                        dw[i] = bert_f16_to_f32(h);
                        if (fabsf(dw[i]) > dmax) dmax = fabsf(dw[i]);
                    }
                    const float inv = 32767.0f / (dmax > 1e-30f ? dmax : 1e-30f);
                    int32_t isum = 0;
                    for (int32_t b = b0; b < b0 + gnb; b++) {
                        const uint8_t *blk = w + (size_t)b * bs;
                        const int32_t m = (int32_t)nearbyintf(dw[b - b0] * inv);
                        for (int j = 0; j < QK; j++) {
                            const int32_t v = is_q4 ? ((blk[2 + j % 16] >> (j < 16 ? 0 : 4)) & 0x0F) - 8 : (int8_t)blk[2 + j];
                            const int32_t wv = (v * (1 << sh) * m + 16384) >> 15; // i16x8.q15mulr_sat_s
                            isum += xq[b * QK + j] * wv;
                        }
                    }
                    acc += (double)isum * (dmax / (float)(1 << sh)) * xd[b0 / GROUP_BLOCKS];
                }
                break;
            }
            case BERT_TYPE_DEFAULT: break; // not a storage type
            }
            for (int32_t c = 0; c < a->n_outl; c++)
                acc += (double)a->x[(int64_t)t * a->ldx + a->outl_idx[c]] * bert_f16_to_f32(a->outl[(int64_t)c * a->outl_ld + o]);
            float v = (float)(acc + (a->bias ? a->bias[o] : 0.0f));
            v = act_ref(v, a->act);
            if (a->res) v += a->res[(int64_t)t * a->ldr + o];
            a->y[(int64_t)t * a->ldy + o] = v;
        }
    }
}
