// test_quant.c - storage formats: f16 conversion (exhaustive over all 65536 halves), q8_0 / q4_0
// round-trip error bounds, zero blocks, ggml block layout, row sizes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kernels.h"
#include "quant.h"

#define TEST_RNG_SEED 0x9E3779B97F4A7C15ull
#include "test_util.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

// Independent value of a half, computed with ldexp.
static double half_value(uint16_t h) {
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1024.0 + m, e - 25);
    return sign ? -v : v;
}

// Correctly rounded (nearest, ties to even) value of f in half precision, computed in double.
static double round_to_half(float f) {
    double a = fabs((double)f);
    if (a == 0) return f;
    int e;
    frexp(a, &e); // a = x * 2^e, x in [0.5, 1): the leading bit is 2^(e-1)
    int qe = (e - 1) - 10;
    if (qe < -24) qe = -24; // subnormal quantum
    double q = ldexp(1.0, qe);
    double r = nearbyint(a / q) * q;
    if (r > 65504.0) r = INFINITY;
    return f < 0 ? -r : r;
}

static void test_f16(void) {
    // bert_f16_to_f32 and the SIMD row kernel against the ldexp value, all 65536 halves.
    static uint16_t all[65536];
    static float simd[65536];
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    bert_f16_row_to_f32(all, simd, 65536);
    int bad = 0, bad_simd = 0, bad_rt = 0;
    for (int i = 0; i < 65536; i++) {
        const double ref = half_value((uint16_t)i);
        const float f = bert_f16_to_f32((uint16_t)i);
        if (isnan(ref)) {
            if (!isnan(f) || (bits(f) >> 31) != (unsigned)(i >> 15)) bad++;
            if (bits(simd[i]) != bits(f)) bad_simd++; // NaN payload kept identically
            if ((bert_f32_to_f16(f) & 0x7C00) != 0x7C00 || !(bert_f32_to_f16(f) & 0x3FF)) bad_rt++;
            continue;
        }
        if ((double)f != ref || (signbit(f) != 0) != (i >> 15)) bad++;
        if (bits(simd[i]) != bits(f)) bad_simd++;
        if (bert_f32_to_f16(f) != (uint16_t)i) bad_rt++; // exact round trip
    }
    CHECK(bad == 0, "bert_f16_to_f32 wrong for %d of 65536 halves", bad);
    CHECK(bad_simd == 0, "bert_f16_row_to_f32 (SIMD) differs from scalar for %d halves", bad_simd);
    CHECK(bad_rt == 0, "f16 -> f32 -> f16 not identity for %d halves", bad_rt);

    // f32 -> f16 rounding: every midpoint between adjacent positive halves, one ulp either side,
    // and random floats over the whole range, against the double-precision rounding.
    int bad_round = 0;
    for (int h = 0; h < 0x7C00; h++) {
        const float lo = (float)half_value((uint16_t)h);
        const float hi = h + 1 == 0x7C00 ? 65536.0f : (float)half_value((uint16_t)(h + 1));
        const float mid = (float)(((double)lo + hi) / 2); // exact: halves have 11 bits
        const float cand[3] = {mid, nextafterf(mid, 0.0f), nextafterf(mid, INFINITY)};
        for (int c = 0; c < 3; c++)
            for (int s = 0; s < 2; s++) {
                const float f = s ? -cand[c] : cand[c];
                const double want = round_to_half(f);
                const float got = bert_f16_to_f32(bert_f32_to_f16(f));
                if ((double)got != want || (signbit(got) != 0) != (signbit(f) != 0)) {
                    if (bad_round++ < 5) printf("  f32->f16(%a) = %a, want %a\n", f, got, want);
                }
            }
    }
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = rnd32() ^ (rnd32() << 16);
        float f;
        memcpy(&f, &u, 4);
        if (isnan(f)) continue;
        const double want = round_to_half(f);
        const float got = bert_f16_to_f32(bert_f32_to_f16(f));
        if ((double)got != want || (signbit(got) != 0) != (signbit(f) != 0)) {
            if (bad_round++ < 5) printf("  f32->f16(%a) = %a, want %a\n", f, got, want);
        }
    }
    CHECK(bad_round == 0, "f32 -> f16 rounding wrong in %d cases", bad_round);
    CHECK(bert_f32_to_f16(NAN) != 0 && isnan(bert_f16_to_f32(bert_f32_to_f16(NAN))), "NaN must stay NaN");
    CHECK(bert_f32_to_f16(INFINITY) == 0x7C00 && bert_f32_to_f16(-INFINITY) == 0xFC00, "infinities");
    CHECK(bert_f32_to_f16(65519.99f) == 0x7BFF && bert_f32_to_f16(65520.0f) == 0x7C00, "overflow threshold");
}

static void test_sizes(void) {
    CHECK(bert_row_size(BERT_TYPE_F32, 384) == 1536, "f32 row size");
    CHECK(bert_row_size(BERT_TYPE_F16, 384) == 768, "f16 row size");
    CHECK(bert_row_size(BERT_TYPE_Q8_0, 384) == 12 * 34, "q8_0 row size");
    CHECK(bert_row_size(BERT_TYPE_Q4_0, 384) == 12 * 18, "q4_0 row size");
    CHECK(bert_row_size(BERT_TYPE_Q8_0, 312) == 0 && !bert_type_fits(BERT_TYPE_Q4_0, 312), "312 not quantizable");
    CHECK(bert_type_fits(BERT_TYPE_F16, 312) && bert_row_size(BERT_TYPE_F16, 312) == 624, "f16 any n");
    CHECK(bert_row_size(BERT_TYPE_F32, 0) == 0 && bert_row_size(BERT_TYPE_F32, -32) == 0, "n <= 0");
    CHECK(bert_row_size(BERT_TYPE_F32, INT64_MAX) == 0, "overflow gives 0");
    CHECK(bert_row_size((bert_type)5, 32) == 0, "unknown type");
}

// Round trip of one row; returns max |err| / bound over elements (must be <= 1).
static double roundtrip(bert_type t, const float *x, int n) {
    uint8_t buf[64 * 34];
    float y[2048];
    bert_quantize_row(t, x, buf, n);
    bert_dequantize_row(t, buf, y, n);
    double worst = 0;
    for (int b = 0; b < n / QK; b++) {
        uint16_t dh;
        memcpy(&dh, buf + b * (t == BERT_TYPE_Q8_0 ? 34 : 18), 2);
        const double d = fabs(bert_f16_to_f32(dh));
        float amax = 0;
        for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[b * QK + j]));
        // the stored scale is amax/127 (q8) or |max|/8 (q4) ...
        const double dref = t == BERT_TYPE_Q8_0 ? amax / 127.0 : amax / 8.0;
        // ... rounded up in magnitude to the next half
        if (d < dref * (1 - 1e-7) || d - dref > dref * 0x1p-10 + 0x1p-24) worst = fmax(worst, 1e9);
        for (int j = 0; j < QK; j++) {
            const double xv = x[b * QK + j], err = fabs(xv - y[b * QK + j]);
            // q8: half a step. q4: half a step inside [-8d, 7d]; the far side of the largest
            // magnitude (+8d when it is -8d) clamps to 7d: one step.
            double bound = 0.5 * d;
            if (t == BERT_TYPE_Q4_0 && fabs(xv) > 7.5 * d) bound = d;
            bound = bound * (1 + 1e-6) + 1e-6 * amax + 1e-30;
            if (err / bound > worst) worst = err / bound;
        }
    }
    return worst;
}

static void test_quant_roundtrip(void) {
    float x[1024];
    const bert_type types[2] = {BERT_TYPE_Q8_0, BERT_TYPE_Q4_0};
    for (int ti = 0; ti < 2; ti++) {
        const bert_type t = types[ti];
        double worst = 0;
        for (int it = 0; it < 500; it++) {
            const int n = QK * (1 + (int)(rnd32() % 32));
            const float scale = powf(10.0f, rndf(-4.0f, 3.0f));
            for (int i = 0; i < n; i++) x[i] = rndf(-1.0f, 1.0f) * scale;
            if (it % 5 == 0) x[rnd32() % n] = 20.0f * scale; // an outlier
            const double w = roundtrip(t, x, n);
            if (w > worst) worst = w;
        }
        printf("%s round trip: worst error / bound = %.4f\n", bert_type_name(t), worst);
        CHECK(worst <= 1.0, "%s round-trip error above bound (ratio %.4f)", bert_type_name(t), worst);

        // f16 storage: exactly the f16 rounding
        for (int i = 0; i < 256; i++) x[i] = rndf(-100.0f, 100.0f);
        uint16_t h[256];
        float y[256];
        bert_quantize_row(BERT_TYPE_F16, x, h, 256);
        bert_dequantize_row(BERT_TYPE_F16, h, y, 256);
        int bad = 0;
        for (int i = 0; i < 256; i++) bad += (double)y[i] != round_to_half(x[i]);
        CHECK(bad == 0, "f16 storage row: %d values not correctly rounded", bad);

        // zero blocks: scale 0, values 0, no NaN; a zero block next to a non-zero one.
        memset(x, 0, sizeof x);
        for (int i = 32; i < 64; i++) x[i] = (float)(i - 40);
        uint8_t buf[4 * 34];
        memset(buf, 0xAB, sizeof buf);
        bert_quantize_row(t, x, buf, 96);
        const size_t bs = t == BERT_TYPE_Q8_0 ? 34 : 18;
        uint16_t d0, d2;
        memcpy(&d0, buf, 2);
        memcpy(&d2, buf + 2 * bs, 2);
        CHECK(d0 == 0 && d2 == 0, "%s zero block must have scale 0 (got %04x %04x)", bert_type_name(t), d0, d2);
        bert_dequantize_row(t, buf, y, 96);
        int nz = 0;
        for (int i = 0; i < 96; i++)
            if (i < 32 || i >= 64) nz += y[i] != 0.0f || signbit(y[i]);
        CHECK(nz == 0, "%s zero blocks must dequantize to +0", bert_type_name(t));
        CHECK(roundtrip(t, x, 96) <= 1.0, "%s mixed zero/non-zero row", bert_type_name(t));

        // NaN elements: no crash, quantize to 0 (q8) / offset 8 (q4), the rest of the block intact.
        for (int i = 0; i < 32; i++) x[i] = (float)i / 31.0f;
        x[5] = NAN;
        bert_quantize_row(t, x, buf, 32);
        bert_dequantize_row(t, buf, y, 32);
        CHECK(y[5] == 0.0f && fabsf(y[31] - 1.0f) < 0.07f, "%s NaN element: %g, last %g", bert_type_name(t), y[5], y[31]);
    }

    // Layout: q8_0 = f16 d + qs[32]; q4_0 byte j = element j (low nibble) | element j+16 (high).
    for (int i = 0; i < 32; i++) x[i] = (float)(i % 16) - 8.0f; // -8..7 twice; max magnitude -8 -> d = 1
    block_q4_0 b4;
    bert_quantize_row(BERT_TYPE_Q4_0, x, &b4, 32);
    CHECK(bert_f16_to_f32(b4.d) == 1.0f, "q4_0 scale %g, want 1", bert_f16_to_f32(b4.d));
    int lay = 0;
    for (int j = 0; j < 16; j++) lay += b4.qs[j] != (uint8_t)((j % 16) | ((j % 16) << 4));
    CHECK(lay == 0, "q4_0 nibble layout differs from ggml");
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) * 127.0f / 16.0f; // max |x| = 127 -> d = 1
    block_q8_0 b8;
    bert_quantize_row(BERT_TYPE_Q8_0, x, &b8, 32);
    CHECK(bert_f16_to_f32(b8.d) == 1.0f && b8.qs[0] == -127 && b8.qs[16] == 0 && b8.qs[31] == 119,
          "q8_0 layout/values: d %g qs %d %d %d", bert_f16_to_f32(b8.d), b8.qs[0], b8.qs[16], b8.qs[31]);
}

// The SIMD quantizers (what the loader uses) against their scalar twins: identical bytes.
static void test_simd_twins(void) {
    static float x[4096];
    static uint8_t a[4096 / 32 * 34], b[4096 / 32 * 34];
    const bert_type types[2] = {BERT_TYPE_Q8_0, BERT_TYPE_Q4_0};
    int bad[2] = {0, 0};
    for (int it = 0; it < 3000; it++) {
        const int n = 32 * (1 + (int)(rnd32() % 128));
        const float scale = powf(10.0f, rndf(-9.0f, 6.0f));
        for (int i = 0; i < n; i++) x[i] = rndf(-1.0f, 1.0f) * scale;
        switch (it % 9) { // edge content
        case 1: memset(x, 0, 32 * sizeof(float)); break;                                   // zero block
        case 2: x[rnd32() % n] = NAN; break;                                              // NaN
        case 3: x[rnd32() % n] = (rnd32() & 1) ? INFINITY : -INFINITY; break;            // inf
        case 4: for (int i = 0; i < 32; i++) x[i] = (float)((int)(rnd32() % 255) - 127); break; // ties
        case 5: x[0] = -x[1]; x[1] = fabsf(x[1]); break;                                 // +-max tie
        case 6: for (int i = 0; i < n; i++) x[i] = -0.0f; break;                          // negative zeros
        case 7: x[rnd32() % n] = 1e30f; break;                                            // beyond f16
        default: break;
        }
        for (int k = 0; k < 2; k++) {
            const uint64_t rs = bert_row_size(types[k], n);
            memset(a, 0x5A, rs);
            memset(b, 0xA5, rs);
            bert_quantize_row(types[k], x, a, n);
            bert_quantize_row_ref(types[k], x, b, n);
            bad[k] += memcmp(a, b, rs) != 0;
        }
    }
    CHECK(bad[0] == 0, "q8_0: SIMD quantizer differs from the scalar twin in %d of 3000 rows", bad[0]);
    CHECK(bad[1] == 0, "q4_0: SIMD quantizer differs from the scalar twin in %d of 3000 rows", bad[1]);
}

int main(void) {
    test_simd_twins();
    test_f16();
    test_sizes();
    test_quant_roundtrip();
    if (failures) {
        printf("test_quant: %d failures\n", failures);
        return 1;
    }
    printf("test_quant: all passed\n");
    return 0;
}
