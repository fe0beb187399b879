// quant.c - storage formats (ggml block layouts) and row conversion to and from f32.
#include "quant.h"

#include <math.h>

#include "common.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#else
#include <simde/wasm/simd128.h>
#endif

_Static_assert(sizeof(block_q8_0) == 34, "q8_0 block must be 34 bytes (ggml layout)");
_Static_assert(sizeof(block_q4_0) == 18, "q4_0 block must be 18 bytes (ggml layout)");

int bert_type_fits(bert_type t, int64_t n) {
    if (n <= 0) return 0;
    switch (t) {
    case BERT_TYPE_F32:
    case BERT_TYPE_F16: return 1;
    case BERT_TYPE_Q8_0:
    case BERT_TYPE_Q4_0: return n % QK == 0;
    case BERT_TYPE_DEFAULT: break; // not a storage type
    }
    return 0;
}

uint64_t bert_row_size(bert_type t, int64_t n) {
    if (!bert_type_fits(t, n)) return 0;
    uint64_t out, un = (uint64_t)n;
    int bad = 0;
    switch (t) {
    case BERT_TYPE_F32: bad = bert_mul_u64(un, 4, &out); break;
    case BERT_TYPE_F16: bad = bert_mul_u64(un, 2, &out); break;
    case BERT_TYPE_Q8_0: bad = bert_mul_u64(un / QK, sizeof(block_q8_0), &out); break;
    case BERT_TYPE_Q4_0: bad = bert_mul_u64(un / QK, sizeof(block_q4_0), &out); break;
    default: return 0;
    }
    return bad ? 0 : out;
}

// The scale is rounded to f16 first and the values are quantized against that stored scale, so
// dequantization reproduces what was intended (ggml quantizes against the unrounded scale).
// f16 saturates at 65504; a NaN input element quantizes to 0.
static float quant_scale(float d, float *id) {
    if (d != d || d == 0.0f) d = 0.0f; // also -0 -> +0: a zero block stores scale 0x0000
    if (d > 65504.0f) d = 65504.0f;
    if (d < -65504.0f) d = -65504.0f;
    // Round the magnitude up, never down: then |x| / |d| <= 127 (or 8) and no value clamps, which
    // matters for small blocks whose scale is an f16 subnormal (amax < 127 * 2^-14).
    uint16_t h = bert_f32_to_f16(d);
    if (fabsf(bert_f16_to_f32(h)) < fabsf(d) && (h & 0x7FFF) < 0x7BFF) h++;
    float dr = bert_f16_to_f32(h);
    *id = dr != 0.0f ? 1.0f / dr : 0.0f;
    return dr;
}

static void quantize_row_q8_0_ref(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = fabsf(x[j]);
            if (a > amax) amax = a; // NaN compares false: ignored
        }
        float id;
        float d = quant_scale(amax / 127.0f, &id);
        y[b].d = bert_f32_to_f16(d);
        for (int j = 0; j < QK; j++) {
            float v = x[j] * id;
            if (v != v) v = 0.0f;
            if (v > 127.0f) v = 127.0f;
            if (v < -127.0f) v = -127.0f;
            y[b].qs[j] = (int8_t)nearbyintf(v); // ties to even, like f32x4.nearest
        }
    }
}

static void quantize_row_q4_0_ref(const float *x, block_q4_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        // The signed value of largest magnitude maps to -8, using the full range -8..7.
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            float a = fabsf(x[j]);
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        float id;
        float d = quant_scale(max / -8.0f, &id);
        y[b].d = bert_f32_to_f16(d);
        uint8_t q[QK];
        for (int j = 0; j < QK; j++) {
            float v = x[j] * id + 8.5f;
            if (v != v) v = 8.0f;
            if (v < 0.0f) v = 0.0f;
            if (v > 15.0f) v = 15.0f;
            q[j] = (uint8_t)v; // truncation of v + 0.5: round half up
        }
        for (int j = 0; j < QK / 2; j++) y[b].qs[j] = (uint8_t)(q[j] | (q[j + QK / 2] << 4));
    }
}

// SIMD128 twins of the two quantizers above (the loader quantizes every weight through these, so
// they set the load time of a q8_0 / q4_0 model). Bit-identical to the scalar versions.
static float hmax4(v128_t v) {
    float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
    float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
    a = b > a ? b : a;
    c = d > c ? d : c;
    return c > a ? c : a;
}

static void quantize_row_q8_0_simd(const float *x, block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        v128_t m = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < QK; j += 4) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(x + j))); // NaN ignored
        float id;
        const float d = quant_scale(hmax4(m) / 127.0f, &id);
        y[b].d = bert_f32_to_f16(d);
        const v128_t vid = wasm_f32x4_splat(id);
        for (int j = 0; j < QK; j += 16) {
            v128_t q[4];
            for (int k = 0; k < 4; k++) { // nearest: ties to even; trunc_sat: NaN -> 0, inf -> clamp
                q[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + j + 4 * k), vid)));
                q[k] = wasm_i32x4_min(wasm_i32x4_max(q[k], wasm_i32x4_splat(-127)), wasm_i32x4_splat(127));
            }
            const v128_t v = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]), wasm_i16x8_narrow_i32x4(q[2], q[3]));
            wasm_v128_store(y[b].qs + j, v);
        }
    }
}

static void quantize_row_q4_0_simd(const float *x, block_q4_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / QK; b++, x += QK) {
        v128_t m = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < QK; j += 4) m = wasm_f32x4_pmax(m, wasm_f32x4_abs(wasm_v128_load(x + j)));
        const float amax = hmax4(m);
        float max = 0.0f; // the first value of that magnitude, with its sign
        for (int j = 0; j < QK; j++)
            if (fabsf(x[j]) == amax) {
                max = x[j];
                break;
            }
        float id;
        const float d = quant_scale(max / -8.0f, &id);
        y[b].d = bert_f32_to_f16(d);
        const v128_t vid = wasm_f32x4_splat(id), half = wasm_f32x4_splat(8.5f), eight = wasm_f32x4_splat(8.0f);
        v128_t q[8];
        for (int k = 0; k < 8; k++) {
            v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + 4 * k), vid), half);
            v = wasm_v128_bitselect(eight, v, wasm_f32x4_ne(v, v)); // NaN -> code 8 (value 0)
            q[k] = wasm_i32x4_trunc_sat_f32x4(v);                    // truncation of v + 0.5
            q[k] = wasm_i32x4_min(wasm_i32x4_max(q[k], wasm_i32x4_splat(0)), wasm_i32x4_splat(15));
        }
        const v128_t lo = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]), wasm_i16x8_narrow_i32x4(q[2], q[3]));
        const v128_t hi = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[4], q[5]), wasm_i16x8_narrow_i32x4(q[6], q[7]));
        wasm_v128_store(y[b].qs, wasm_v128_or(lo, wasm_i8x16_shl(hi, 4)));
    }
}

static void quantize_row(bert_type t, const float *src, void *dst, int64_t n, int simd) {
    if (!bert_type_fits(t, n)) return;
    switch (t) {
    case BERT_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case BERT_TYPE_F16: {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++) h[i] = bert_f32_to_f16(src[i]);
        break;
    }
    case BERT_TYPE_Q8_0: simd ? quantize_row_q8_0_simd(src, dst, n) : quantize_row_q8_0_ref(src, dst, n); break;
    case BERT_TYPE_Q4_0: simd ? quantize_row_q4_0_simd(src, dst, n) : quantize_row_q4_0_ref(src, dst, n); break;
    case BERT_TYPE_DEFAULT: break; // not a storage type (bert_type_fits refused it)
    }
}

void bert_quantize_row(bert_type t, const float *src, void *dst, int64_t n) { quantize_row(t, src, dst, n, 1); }
void bert_quantize_row_ref(bert_type t, const float *src, void *dst, int64_t n) { quantize_row(t, src, dst, n, 0); }

void bert_dequantize_row(bert_type t, const void *src, float *dst, int64_t n) {
    if (!bert_type_fits(t, n)) return;
    switch (t) {
    case BERT_TYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case BERT_TYPE_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = bert_f16_to_f32(h[i]);
        break;
    }
    case BERT_TYPE_Q8_0: {
        const block_q8_0 *x = src;
        for (int64_t b = 0; b < n / QK; b++) {
            float d = bert_f16_to_f32(x[b].d);
            for (int j = 0; j < QK; j++) dst[b * QK + j] = d * (float)x[b].qs[j];
        }
        break;
    }
    case BERT_TYPE_Q4_0: {
        const block_q4_0 *x = src;
        for (int64_t b = 0; b < n / QK; b++) {
            float d = bert_f16_to_f32(x[b].d);
            for (int j = 0; j < QK / 2; j++) {
                dst[b * QK + j] = d * (float)((x[b].qs[j] & 0x0F) - 8);
                dst[b * QK + j + QK / 2] = d * (float)((x[b].qs[j] >> 4) - 8);
            }
        }
        break;
    }
    case BERT_TYPE_DEFAULT: break; // not a storage type (bert_type_fits refused it)
    }
}
