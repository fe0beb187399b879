// test_kernels.c - each SIMD kernel against its scalar twin, with explicit error bounds, on random
// and edge inputs (zeros, large values, NaN).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kernels.h"
#include "quant.h"

#include "test_util.h"
static float rndn(void) { // roughly normal
    return (rndf(-1, 1) + rndf(-1, 1) + rndf(-1, 1)) * 1.2f;
}

// ---------------------------------------------------------------------------------------------

static void test_exp(void) {
    double worst = 0;
    float x[4096], y[4096];
    for (int i = 0; i < 4096; i++) x[i] = i < 4000 ? rndf(-80.0f, 88.0f) : rndf(-1.0f, 1.0f);
    bert_exp(x, y, 4093); // odd length: tail path
    for (int i = 0; i < 4093; i++) {
        double r = exp((double)x[i]), e = fabs(y[i] - r) / r;
        if (e > worst) worst = e;
    }
    printf("exp: max rel err %.3g\n", worst);
    CHECK(worst < 4e-7, "vector exp rel err %.3g >= 4e-7", worst);
    float nanv[8] = {NAN, 0.0f, -1000.0f, 1000.0f, -80.5f, -79.9f, -INFINITY, 88.0f}, o[8];
    bert_exp(nanv, o, 8);
    CHECK(isnan(o[0]) && o[1] == 1.0f && o[2] == 0.0f && isfinite(o[3]) && o[3] > 1e38f,
          "exp edges: %g %g %g %g", o[0], o[1], o[2], o[3]);
    // flushed to 0 below -80 (never a subnormal), accurate just above
    CHECK(o[4] == 0.0f && fabs(o[5] - exp((double)nanv[5])) < 4e-7 * exp((double)nanv[5]) && o[6] == 0.0f &&
              fabs(o[7] - exp((double)nanv[7])) < 4e-7 * exp((double)nanv[7]),
          "exp near the ends: %g %g %g %g", o[4], o[5], o[6], o[7]);
    // no subnormal ever comes out of softmax or GELU
    float row[300], g[2000];
    for (int i = 0; i < 300; i++) row[i] = -(float)i; // spans e^0 .. e^-299
    bert_softmax(row, 300, 1.0f);
    for (int i = 0; i < 2000; i++) g[i] = -20.0f + 20.0f * (float)i / 2000.0f;
    bert_gelu(g, 2000);
    int sub = 0;
    for (int i = 0; i < 300; i++) sub += row[i] != 0.0f && fabsf(row[i]) < 1.17549435e-38f;
    for (int i = 0; i < 2000; i++) sub += g[i] != 0.0f && fabsf(g[i]) < 1.17549435e-38f;
    CHECK(sub == 0, "%d subnormal outputs from softmax/gelu", sub);
}

static void test_gelu(void) {
    enum { N = 6001 };
    static float x[N], a[N], b[N];
    for (int i = 0; i < N; i++) x[i] = i < 4001 ? -10.0f + 20.0f * (float)i / 4000.0f : rndn() * 3.0f;
    x[0] = 0.0f;
    x[1] = -0.0f;
    x[2] = 1e4f;
    x[3] = -1e4f;
    x[4] = 1e-30f;
    // erf form: vs libm erff; the bound allows ~1.5e-7 abs in erf plus rounding (the kernel's rational
    // fit is 5.5e-8 in erf before float rounding; 0.5 + 0.5 erf cancels on the negative side).
    memcpy(a, x, sizeof x);
    memcpy(b, x, sizeof x);
    bert_gelu(a, N);
    bert_gelu_ref(b, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double bound = 1e-7 + 2e-7 * fabs(x[i]) + 2e-7 * fabs(b[i]);
        double r = fabs(a[i] - b[i]) / bound;
        if (r > worst) worst = r;
        // against the exact double value as well
        double exact = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
        CHECK(fabs(a[i] - exact) <= bound, "gelu(%g) = %.9g, exact %.9g", x[i], a[i], exact);
    }
    printf("gelu (erf): worst diff/bound %.3f\n", worst);
    CHECK(worst <= 1.0, "gelu vs erf reference above bound (%.3f)", worst);
    CHECK(a[0] == 0.0f && a[2] == 1e4f && fabsf(a[3]) < 1e-30f, "gelu edges: %g %g %g", a[0], a[2], a[3]);

    // tanh form
    memcpy(a, x, sizeof x);
    memcpy(b, x, sizeof x);
    bert_gelu_tanh(a, N);
    bert_gelu_tanh_ref(b, N);
    worst = 0;
    for (int i = 0; i < N; i++) {
        double u = 0.7978845608028654 * (x[i] + 0.044715 * (double)x[i] * x[i] * x[i]);
        double exact = 0.5 * x[i] * (1.0 + tanh(u));
        double bound = 1e-7 + 1e-6 * fabs(exact) + 1e-7 * fabs(x[i]);
        double r = fabs(a[i] - exact) / bound;
        if (r > worst) worst = r;
        CHECK(fabs(a[i] - b[i]) <= bound + 1e-7 * fabs(x[i]), "gelu_tanh(%g) simd %.9g ref %.9g", x[i], a[i], b[i]);
    }
    printf("gelu (tanh): worst diff/bound %.3f\n", worst);
    CHECK(worst <= 1.0, "gelu_tanh above bound (%.3f)", worst);

    float n[5] = {NAN, 1.0f, NAN, -2.0f, NAN};
    bert_gelu(n, 5);
    CHECK(isnan(n[0]) && isnan(n[2]) && isnan(n[4]) && fabsf(n[1] - 0.8413447f) < 1e-6f, "gelu NaN propagation");
    float n2[3] = {NAN, 1.0f, NAN};
    bert_gelu_tanh(n2, 3);
    CHECK(isnan(n2[0]) && isnan(n2[2]) && fabsf(n2[1] - 0.841192f) < 1e-5f, "gelu_tanh NaN propagation");
}

static void test_layernorm(void) {
    float x[300], a[300], b[300], w[300], bias[300];
    double worst = 0;
    for (int it = 0; it < 300; it++) {
        const int n = 1 + (int)(rnd32() % 299);
        const float off = it % 3 == 0 ? 1000.0f : 0.0f, sc = powf(10.0f, rndf(-3, 3));
        for (int i = 0; i < n; i++) {
            x[i] = off + rndn() * sc;
            w[i] = rndf(0.5f, 1.5f);
            bias[i] = rndf(-0.5f, 0.5f);
        }
        memcpy(a, x, sizeof x);
        memcpy(b, x, sizeof x);
        bert_layernorm(a, n, w, bias, 1e-12f);
        bert_layernorm_ref(b, n, w, bias, 1e-12f);
        for (int i = 0; i < n; i++) {
            // a few f32 roundings of the normalized value (|xhat| <= sqrt(n)) and the affine step
            const double xhat = ((double)b[i] - bias[i]) / w[i];
            const double bound = 1e-6 * (fabs(w[i]) * (fabs(xhat) + 1) + fabs(bias[i]));
            double r = fabs(a[i] - b[i]) / bound;
            if (r > worst) worst = r;
        }
    }
    printf("layernorm: worst diff/bound %.3f\n", worst);
    CHECK(worst <= 1.0, "layernorm vs reference above bound (%.3f)", worst);

    // constant row: variance 0 -> output is the bias (eps keeps it finite)
    for (int i = 0; i < 37; i++) {
        x[i] = 3.25f;
        w[i] = 2.0f;
        bias[i] = (float)i;
    }
    bert_layernorm(x, 37, w, bias, 1e-12f);
    int bad = 0;
    for (int i = 0; i < 37; i++) bad += x[i] != (float)i;
    CHECK(bad == 0, "layernorm of a constant row must give the bias");
    // large values (sums of squares near 1e33; past ~1e18 per value they overflow f32)
    for (int i = 0; i < 64; i++) x[i] = (i & 1) ? 3e15f : -3e15f;
    for (int i = 0; i < 64; i++) w[i] = 1.0f, bias[i] = 0.0f;
    bert_layernorm(x, 64, w, bias, 1e-12f);
    CHECK(fabsf(x[0] + 1.0f) < 1e-5f && fabsf(x[1] - 1.0f) < 1e-5f, "layernorm large values: %g %g", x[0], x[1]);
    // NaN row -> all NaN
    for (int i = 0; i < 40; i++) x[i] = (float)i;
    x[17] = NAN;
    bert_layernorm(x, 40, w, bias, 1e-12f);
    bad = 0;
    for (int i = 0; i < 40; i++) bad += !isnan(x[i]);
    CHECK(bad == 0, "layernorm NaN row must become all NaN (%d not NaN)", bad);
}

static void test_softmax(void) {
    float x[600], a[600], b[600];
    double worst = 0;
    for (int it = 0; it < 400; it++) {
        const int n = 1 + (int)(rnd32() % 599);
        const float scale = rndf(0.05f, 1.0f), sc = powf(10.0f, rndf(-2, 1.5f));
        for (int i = 0; i < n; i++) x[i] = rndn() * sc;
        memcpy(a, x, sizeof x);
        memcpy(b, x, sizeof x);
        bert_softmax(a, n, scale);
        bert_softmax_ref(b, n, scale);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double r = fabs(a[i] - b[i]) / (1e-6 * b[i] + 1e-12);
            if (r > worst) worst = r;
            sum += a[i];
        }
        CHECK(fabs(sum - 1.0) < 1e-5, "softmax row sums to %.9g", sum);
    }
    printf("softmax: worst diff/bound %.3f\n", worst);
    CHECK(worst <= 1.0, "softmax vs reference above bound (%.3f)", worst);

    // large values: no overflow, the maximum wins
    for (int i = 0; i < 9; i++) x[i] = (float)i * 1e30f;
    bert_softmax(x, 9, 1.0f);
    CHECK(x[8] == 1.0f && x[0] == 0.0f, "softmax large: %g %g", x[8], x[0]);
    // all zero -> uniform
    memset(x, 0, 7 * sizeof(float));
    bert_softmax(x, 7, 0.125f);
    CHECK(fabsf(x[0] - 1.0f / 7) < 1e-7f && fabsf(x[6] - 1.0f / 7) < 1e-7f, "softmax zeros");
    // NaN anywhere -> whole row NaN, in the body and in the tail
    for (int pos = 0; pos < 11; pos += 5) {
        for (int i = 0; i < 11; i++) x[i] = (float)i;
        x[pos] = NAN;
        memcpy(b, x, sizeof(float) * 11);
        bert_softmax(x, 11, 1.0f);
        bert_softmax_ref(b, 11, 1.0f);
        int bad = 0;
        for (int i = 0; i < 11; i++) bad += !isnan(x[i]) + !isnan(b[i]);
        CHECK(bad == 0, "softmax NaN at %d must make the row NaN", pos);
    }
}

static void test_quantize_act(void) {
    float x[256];
    int16_t qa[256], qb[256];
    float da[8], db[8];
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        const float sc = powf(10.0f, rndf(-6, 6));
        for (int i = 0; i < 256; i++) x[i] = rndn() * sc;
        if (it % 7 == 0) memset(x + 32, 0, 32 * sizeof(float));           // a zero block
        if (it % 11 == 0) x[rnd32() % 256] = NAN;                          // NaN -> 0
        if (it % 13 == 0) x[rnd32() % 256] = (float)(rnd32() % 255) - 127; // exact halves
        if (it % 17 == 0)
            for (int i = 0; i < 32; i++) x[i] = ((float)i - 15.5f) * 2.0f; // ties after scaling
        bert_quantize_act(x, 256, qa, da);
        bert_quantize_act_ref(x, 256, qb, db);
        const int ng = bert_act_groups(256);
        bad += memcmp(qa, qb, sizeof qa) != 0 || memcmp(da, db, sizeof(float) * ng) != 0;
        for (int i = 0; i < 256; i++) {
            const float v = x[i], d = da[i / BERT_ACT_GROUP];
            if (isnan(v)) {
                CHECK(qa[i] == 0, "NaN must quantize to 0");
                continue;
            }
            CHECK(qa[i] >= -BERT_ACT_QMAX && qa[i] <= BERT_ACT_QMAX, "range");
            // half a step, plus the f32 rounding of x / d (up to 8191 steps) and of d * q
            CHECK(fabs(v - (double)d * qa[i]) <= 0.5 * d + 3e-7 * fabs(v) + 1e-30, "act quant error: %g vs %g * %d", v, d,
                  qa[i]);
        }
    }
    CHECK(bad == 0, "bert_quantize_act differs from its scalar twin in %d of 2000 rows", bad);
}

// ---------------------------------------------------------------------------------------------
// GEMM

typedef struct {
    int nt, K, no;
    bert_type t;
    int act, bias, res, inplace;
    int n_outl; // outlier input columns added from an f16 side table (0: none)
} gemm_case;

static int run_gemm_case(const gemm_case *c, double *worst_out) {
    const int nt = c->nt, K = c->K, no = c->no;
    float *x = malloc(sizeof(float) * nt * K + 16);
    float *wf = malloc(sizeof(float) * no * K);
    const uint64_t row = bert_row_size(c->t, K);
    uint8_t *w = malloc(row * no + 1);
    float *bias = malloc(sizeof(float) * no);
    float *res = malloc(sizeof(float) * nt * no);
    float *ya = malloc(sizeof(float) * nt * no), *yb = malloc(sizeof(float) * nt * no);
    int16_t *xq = malloc(sizeof(int16_t) * nt * K + 16);
    float *xd = malloc(sizeof(float) * nt * (K / 32 + 1));
    float *scratch = malloc(sizeof(float) * bert_gemm_scratch_floats(K));
    float *wrow = malloc(sizeof(float) * K);
    for (int i = 0; i < nt * K; i++) x[i] = rndn();
    for (int i = 0; i < no * K; i++) wf[i] = rndn() * 0.1f;
    for (int i = 0; i < no; i++) bias[i] = rndn();
    for (int i = 0; i < nt * no; i++) res[i] = rndn();
    for (int o = 0; o < no; o++) bert_quantize_row(c->t, wf + (size_t)o * K, w + row * o, K);
    const int quant = c->t == BERT_TYPE_Q8_0 || c->t == BERT_TYPE_Q4_0;
    if (quant)
        for (int t = 0; t < nt; t++) bert_quantize_act(x + t * K, K, xq + t * K, xd + t * bert_act_groups(K));
    bert_gemm_args a = {
        .n_tok = nt, .n_in = K, .x = x, .ldx = K, .xq = xq, .xd = xd, .wtype = c->t, .w = w, .w_row = row,
        .y = ya, .ldy = no, .bias = c->bias ? bias : NULL, .res = c->res ? res : NULL, .ldr = no, .act = c->act,
    };
    int32_t oidx[BERT_GEMM_OUTL_MAX];
    uint16_t *outl = malloc(sizeof(uint16_t) * (c->n_outl * no + 1));
    for (int j = 0; j < c->n_outl; j++) { // distinct columns
        int v, dup;
        do {
            v = (int)(rnd32() % (uint32_t)K);
            dup = 0;
            for (int i = 0; i < j; i++) dup |= oidx[i] == v;
        } while (dup);
        oidx[j] = v;
    }
    for (int i = 0; i < c->n_outl * no; i++) outl[i] = bert_f32_to_f16(rndn() * 3.0f);
    a.n_outl = c->n_outl;
    a.outl_idx = oidx;
    a.outl = outl;
    a.outl_ld = no;
    if (c->inplace) { // residual read from and written to the same buffer
        memcpy(ya, res, sizeof(float) * nt * no);
        a.res = ya;
    }
    // SIMD, split into two output ranges like two threads would
    const int mid = (no / 2) & ~3;
    bert_gemm(&a, 0, mid, scratch);
    bert_gemm(&a, mid, no, scratch);
    bert_gemm_args r = a;
    r.y = yb;
    r.res = c->res ? res : NULL;
    bert_gemm_ref(&r, 0, no);
    int bad = 0;
    double worst = 0;
    const int nb = K / 32, ng = bert_act_groups(K);
    for (int t = 0; t < nt; t++) {
        for (int o = 0; o < no; o++) {
            // S: sum of magnitudes of the terms, the scale of the rounding error
            double S = c->bias ? fabs(bias[o]) : 0;
            const uint8_t *wr = w + row * o;
            if (!quant) {
                bert_dequantize_row(c->t, wr, wrow, K);
                for (int k = 0; k < K; k++) S += fabs((double)x[t * K + k] * wrow[k]);
            } else {
                for (int b = 0; b < nb; b++) {
                    float wv[32];
                    bert_dequantize_row(c->t, wr + (row / nb) * b, wv, 32);
                    for (int j = 0; j < 32; j++) S += fabs((double)xq[t * K + b * 32 + j] * xd[t * ng + b / 4] * wv[j]);
                }
            }
            for (int j = 0; j < c->n_outl; j++)
                S += fabs((double)x[t * K + oidx[j]] * bert_f16_to_f32(outl[j * no + o]));
            // f32 (src/kernels.c): a partial sum of up to 64 terms per lane, then one addition per
            // 64-term chunk; integer path: the group sums are exact, one rounding per group scale
            // product and per accumulation.
            const double terms = (quant ? ng + 4 : (K < 64 ? K : 64) + (K + 63) / 64 + 6) + c->n_outl;
            double bound = terms * 0x1p-24 * S * 1.5 + 1e-30;
            const double pre = yb[t * no + o] - (c->res ? res[t * no + o] : 0);
            if (c->act == BERT_EPI_GELU || c->act == BERT_EPI_GELU_TANH) bound = bound * 1.2 + 2e-7 * (1 + fabs(pre) * 4);
            if (c->res) bound += 0x1p-24 * (fabs(res[t * no + o]) + fabs(pre)) * 2;
            const double d = fabs(ya[t * no + o] - yb[t * no + o]);
            if (!(d <= bound)) {
                if (bad++ < 3)
                    printf("  %s nt=%d K=%d no=%d act=%d: y[%d,%d] simd %.9g ref %.9g bound %.3g\n", bert_type_name(c->t),
                           nt, K, no, c->act, t, o, ya[t * no + o], yb[t * no + o], bound);
            }
            if (d / bound > worst) worst = d / bound;
        }
    }
    if (worst > *worst_out) *worst_out = worst;
    free(x), free(wf), free(w), free(bias), free(res), free(ya), free(yb), free(xq), free(xd), free(scratch), free(wrow);
    free(outl);
    return bad;
}

// The integer path against exact products of the f32 inputs, with block scales that differ 1-40x
// inside each activation group (so widen_panel's rescaling to the group's largest scale D is
// exercised) and K with full and short groups. The bound is the propagated error of each input,
// from its definition: a weight's storage error |w - deq(w)| plus the rescaling's
// D (2^-(sh+1) + 3 vmax 2^-16) (half a widened step, and the 15-bit ratio of the block's scale to
// D; vmax = 127 or 8), an activation's |x - d q|, and float rounding.
static void test_gemm_q_accuracy(void) {
    const int Ks[4] = {128, 384, 96, 160};
    const bert_type types[2] = {BERT_TYPE_Q8_0, BERT_TYPE_Q4_0};
    for (int ti = 0; ti < 2; ti++) {
        const bert_type type = types[ti];
        const int sh = type == BERT_TYPE_Q4_0 ? 7 : 4, vmax = type == BERT_TYPE_Q4_0 ? 8 : 127;
        double worst = 0;
        int bad = 0;
        for (int ki = 0; ki < 4; ki++) {
            enum { NT = 7, NO = 16 };
            const int K = Ks[ki], nb = K / 32, ng = bert_act_groups(K);
            const uint64_t row = bert_row_size(type, K);
            float *x = malloc(sizeof(float) * NT * K), *wf = malloc(sizeof(float) * NO * K), *wd = malloc(sizeof(float) * NO * K);
            float *y = malloc(sizeof(float) * NT * NO), *xd = malloc(sizeof(float) * NT * ng);
            int16_t *xq = malloc(sizeof(int16_t) * NT * K);
            uint8_t *w = malloc(row * NO);
            float *scratch = malloc(sizeof(float) * bert_gemm_scratch_floats(K));
            for (int i = 0; i < NT * K; i++) x[i] = rndn() * (i % 37 == 0 ? 8.0f : 1.0f);
            for (int o = 0; o < NO; o++)
                for (int b = 0; b < nb; b++) {
                    const float f = powf(40.0f, rndf(0, 1)) * 0.01f;
                    for (int j = 0; j < 32; j++) wf[o * K + b * 32 + j] = rndn() * f;
                }
            for (int o = 0; o < NO; o++) {
                bert_quantize_row(type, wf + o * K, w + row * o, K);
                bert_dequantize_row(type, w + row * o, wd + o * K, K);
            }
            for (int t = 0; t < NT; t++) bert_quantize_act(x + t * K, K, xq + t * K, xd + t * ng);
            bert_gemm_args a = {.n_tok = NT, .n_in = K, .xq = xq, .xd = xd, .wtype = type, .w = w, .w_row = row, .y = y,
                                .ldy = NO, .act = BERT_EPI_NONE};
            float *sc = scratch;
            bert_gemm(&a, 0, NO, sc);
            for (int t = 0; t < NT; t++)
                for (int o = 0; o < NO; o++) {
                    double exact = 0, bound = 0, S = 0;
                    for (int g = 0; g < ng; g++) {
                        double D = 0; // the group's largest block scale (magnitude; q4_0's are signed)
                        for (int b = 4 * g; b < 4 * g + 4 && b < nb; b++) {
                            uint16_t h;
                            memcpy(&h, w + row * o + (row / nb) * b, 2);
                            if (fabs(bert_f16_to_f32(h)) > D) D = fabs(bert_f16_to_f32(h));
                        }
                        const double rescale = D * (ldexp(1.0, -(sh + 1)) + 3.0 * vmax * ldexp(1.0, -16));
                        for (int k = 128 * g; k < 128 * g + 128 && k < K; k++) {
                            const double xv = x[t * K + k], wv = wf[o * K + k];
                            const double ew = fabs(wv - wd[o * K + k]) + rescale;
                            const double ex = fabs(xv - (double)xd[t * ng + g] * xq[t * K + k]);
                            exact += xv * wv;
                            bound += fabs(xv) * ew + (fabs(wv) + ew) * ex;
                            S += (fabs(xv) + ex) * (fabs(wv) + ew);
                        }
                    }
                    bound += (ng + 4) * 0x1p-24 * S * 1.5 + 1e-30;
                    const double d = fabs(y[t * NO + o] - exact);
                    if (!(d <= bound) && bad++ < 3)
                        printf("  %s K=%d: y[%d,%d] %.9g exact %.9g bound %.3g\n", bert_type_name(type), K, t, o, y[t * NO + o],
                               exact, bound);
                    if (d / bound > worst) worst = d / bound;
                }
            free(x), free(wf), free(wd), free(y), free(xd), free(xq), free(w), free(scratch);
        }
        printf("gemm %s vs exact f32 products: worst error/bound %.3f\n", bert_type_name(type), worst);
        CHECK(bad == 0, "gemm %s: %d outputs off the exact products by more than the quantization bound", bert_type_name(type), bad);
    }
}

static void test_gemm(void) {
    const bert_type types[4] = {BERT_TYPE_F32, BERT_TYPE_F16, BERT_TYPE_Q8_0, BERT_TYPE_Q4_0};
    for (int ti = 0; ti < 4; ti++) {
        double worst = 0;
        int bad = 0, n = 0;
        for (int nt = 1; nt <= 9; nt++) {
            for (int no = 1; no <= 13; no += (no < 9 ? 1 : 4)) {
                const int Ks[5] = {32, 64, 96, 37, 3};
                for (int ki = 0; ki < 5; ki++) {
                    if (types[ti] >= BERT_TYPE_Q4_0 && Ks[ki] % 32) continue;
                    gemm_case c = {nt, Ks[ki], no, types[ti], (int)(rnd32() % 4), (int)(rnd32() % 2), (int)(rnd32() % 2), 0, 0};
                    if (rnd32() % 3 == 0) c.n_outl = 1 + (int)(rnd32() % (Ks[ki] < 8 ? (uint32_t)Ks[ki] : 8u));
                    if (c.res && rnd32() % 2) c.inplace = 1;
                    bad += run_gemm_case(&c, &worst);
                    n++;
                }
            }
        }
        // larger shapes: more tokens than one token block, real widths, outlier columns
        gemm_case big[3] = {{70, 384, 36, types[ti], BERT_EPI_GELU, 1, 0, 0, 0, 4},
                            {130, 1536, 8, types[ti], BERT_EPI_NONE, 1, 1, 1, 0, 2},
                            {5, 1024, 19, types[ti], BERT_EPI_GELU_TANH, 1, 0, 0, 0}};
        for (int i = 0; i < 3; i++, n++) bad += run_gemm_case(&big[i], &worst);
        printf("gemm %s: %d cases, worst diff/bound %.3f\n", bert_type_name(types[ti]), n, worst);
        CHECK(bad == 0, "gemm %s: %d cases above the bound", bert_type_name(types[ti]), bad);
    }

    // Exact in integer: activations that quantize with scale 1 (integers, max |x| = BERT_ACT_QMAX
    // at the start of each activation group) against q8_0 weights with scale 1 in every block (max
    // |w| = 127; w = 0 where x is the big one, so the widened weights are exactly 16 w at scale
    // 1/16): every product and group sum is an integer and the total stays < 2^24, so the SIMD
    // result must equal the integer dot product exactly.
    enum { NT = 5, K = 256, NO = 6 };
    float x[NT * K], wf[NO * K], y[NT * NO];
    float *scratch = malloc(sizeof(float) * bert_gemm_scratch_floats(K));
    int16_t xq[NT * K];
    float xd[NT * K / 32];
    uint8_t w[NO * (K / 32) * 34];
    for (int i = 0; i < NT * K; i++) x[i] = (i % BERT_ACT_GROUP == 0) ? (float)BERT_ACT_QMAX : (float)((int)(rnd32() % 601) - 300);
    for (int i = 0; i < NO * K; i++)
        wf[i] = (i % 32 == 0) ? 0.0f : (i % 32 == 1) ? -127.0f : (float)((int)(rnd32() % 255) - 127);
    for (int o = 0; o < NO; o++) bert_quantize_row(BERT_TYPE_Q8_0, wf + o * K, w + o * (K / 32) * 34, K);
    for (int t = 0; t < NT; t++) bert_quantize_act(x + t * K, K, xq + t * K, xd + t * bert_act_groups(K));
    // The 2-token tail kernel (a token block ending in 1 or 2 tokens) gives exactly what the
    // 4-token kernel gives for the same rows: n_tok = 5 and 6 against the same rows inside n_tok = 8.
    for (int wt = 0; wt < 2; wt++) {
        enum { KT = 96, NOT = 12 };
        const bert_type type = wt ? BERT_TYPE_Q4_0 : BERT_TYPE_Q8_0;
        const uint64_t row = bert_row_size(type, KT);
        float xt[8 * KT], wt_f[NOT * KT], bias[NOT], y8[8 * NOT], yt[8 * NOT];
        uint8_t *wq = malloc((size_t)(row * NOT));
        int16_t xqt[8 * KT];
        float xdt[8 * KT / 32];
        float *sc = malloc(sizeof(float) * bert_gemm_scratch_floats(KT));
        for (int i = 0; i < 8 * KT; i++) xt[i] = rndn();
        for (int i = 0; i < NOT * KT; i++) wt_f[i] = rndn() * 0.1f;
        for (int o = 0; o < NOT; o++) bias[o] = rndn();
        for (int o = 0; o < NOT; o++) bert_quantize_row(type, wt_f + o * KT, wq + o * row, KT);
        for (int t = 0; t < 8; t++) bert_quantize_act(xt + t * KT, KT, xqt + t * KT, xdt + t * bert_act_groups(KT));
        bert_gemm_args g = {.n_tok = 8, .n_in = KT, .x = xt, .ldx = KT, .xq = xqt, .xd = xdt, .wtype = type, .w = wq,
                            .w_row = row, .y = y8, .ldy = NOT, .bias = bias, .act = BERT_EPI_GELU};
        bert_gemm(&g, 0, NOT, sc);
        for (int nt = 5; nt <= 6; nt++) {
            g.n_tok = nt;
            g.y = yt;
            bert_gemm(&g, 0, NOT, sc);
            CHECK(memcmp(yt, y8, sizeof(float) * (size_t)nt * NOT) == 0, "gemm %s: %d-token tail differs from the 4-token kernel",
                  bert_type_name(type), nt - 4);
        }
        free(wq);
        free(sc);
    }

    // NaN in an activation propagates to that token's outputs only (f32 path)
    float xn[2 * 32], wn[3 * 32], yn[2 * 3];
    for (int i = 0; i < 64; i++) xn[i] = 1.0f;
    for (int i = 0; i < 96; i++) wn[i] = 0.5f;
    xn[40] = NAN;
    bert_gemm_args an = {.n_tok = 2, .n_in = 32, .x = xn, .ldx = 32, .wtype = BERT_TYPE_F32, .w = wn, .w_row = 128,
                         .y = yn, .ldy = 3, .act = BERT_EPI_GELU};
    float *sn = malloc(sizeof(float) * bert_gemm_scratch_floats(32));
    bert_gemm(&an, 0, 3, sn);
    free(sn);
    CHECK(!isnan(yn[0]) && !isnan(yn[2]) && isnan(yn[3]) && isnan(yn[5]), "gemm NaN propagation");
}

// Attention's P V against its double-accumulating twin: every row count, sequence lengths that are
// and are not multiples of 4, head sizes with and without a tail past the 8-wide steps; rows of V
// strided as in the fused QKV buffer, and nothing outside the ni x hd output written.
// Scores through the transposed keys against the double-precision twin (and the packing against the
// rows it copies), with outputs past ni rows and n columns left untouched.
static void test_attn_qk(void) {
    const int hds[5] = {8, 32, 64, 12, 6};
    const int ns[6] = {1, 3, 4, 9, 23, 130};
    double worst = 0;
    int bad = 0, spill = 0, packed = 0;
    for (int hi = 0; hi < 5; hi++)
        for (int nn = 0; nn < 6; nn++)
            for (int ni = 1; ni <= 4; ni++) {
                const int hd = hds[hi], n = ns[nn], ld = 3 * hd + 5, n8 = (n + 7) & ~7, ldo = n8 + 3;
                float *q = malloc(sizeof(float) * 4 * ld), *k = malloc(sizeof(float) * n * ld);
                float *kt = malloc(sizeof(float) * hd * n8);
                float *a = malloc(sizeof(float) * 4 * ldo), *b = malloc(sizeof(float) * 4 * ldo);
                for (int i = 0; i < 4 * ld; i++) q[i] = rndn();
                for (int i = 0; i < n * ld; i++) k[i] = rndn();
                for (int i = 0; i < hd * n8; i++) kt[i] = NAN; // packing must overwrite all of it
                for (int i = 0; i < 4 * ldo; i++) a[i] = b[i] = -7.0f;
                bert_attn_pack_keys(k, ld, n, hd, kt, n8);
                for (int d = 0; d < hd; d++)
                    for (int j = 0; j < n8; j++) packed += kt[d * n8 + j] != k[(j < n ? j : n - 1) * ld + d];
                bert_attn_qk(q, ld, ni, kt, n8, n, hd, a, ldo);
                bert_attn_qk_ref(q, ld, ni, kt, n8, n, hd, b, ldo);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < ldo; j++) {
                        if (i >= ni || j >= n) {
                            spill += a[i * ldo + j] != -7.0f;
                            continue;
                        }
                        double S = 0;
                        for (int d = 0; d < hd; d++) S += fabs((double)q[i * ld + d] * k[j * ld + d]);
                        const double bound = (hd + 2) * 0x1p-24 * S * 1.5 + 1e-30;
                        const double r = fabs((double)a[i * ldo + j] - b[i * ldo + j]) / bound;
                        if (r > worst) worst = r;
                        bad += !(r <= 1.0);
                    }
                free(q);
                free(k);
                free(kt);
                free(a);
                free(b);
            }
    printf("attn_qk: worst diff/bound %.3f\n", worst);
    CHECK(packed == 0, "attn_pack_keys: %d values differ from the key rows (padding: the last key)", packed);
    CHECK(bad == 0, "attn_qk: %d outputs above the bound", bad);
    CHECK(spill == 0, "attn_qk wrote %d values outside its output", spill);
}

static void test_attn_pv(void) {
    const int hds[4] = {8, 32, 64, 12};
    const int ns[5] = {1, 3, 4, 23, 130};
    double worst = 0;
    int bad = 0, spill = 0;
    for (int hi = 0; hi < 4; hi++)
        for (int nn = 0; nn < 5; nn++)
            for (int ni = 1; ni <= 4; ni++) {
                const int hd = hds[hi], n = ns[nn], ldv = 3 * hd + 5, ldo = hd + 3;
                float *p = malloc(sizeof(float) * 4 * n), *v = malloc(sizeof(float) * n * ldv);
                float *a = malloc(sizeof(float) * 4 * ldo), *b = malloc(sizeof(float) * 4 * ldo);
                for (int i = 0; i < 4 * n; i++) p[i] = rndf(0.0f, 1.0f);
                for (int i = 0; i < n * ldv; i++) v[i] = rndn();
                for (int i = 0; i < 4 * ldo; i++) a[i] = b[i] = -7.0f;
                bert_attn_pv(p, n, ni, n, v, ldv, hd, a, ldo);
                bert_attn_pv_ref(p, n, ni, n, v, ldv, hd, b, ldo);
                for (int i = 0; i < 4; i++)
                    for (int d = 0; d < ldo; d++) {
                        if (i >= ni || d >= hd) { // outside the output: untouched
                            spill += a[i * ldo + d] != -7.0f;
                            continue;
                        }
                        double S = 0; // one rounding per term of an f32 running sum
                        for (int j = 0; j < n; j++) S += fabs((double)p[i * n + j] * v[j * ldv + d]);
                        const double bound = (n + 2) * 0x1p-24 * S * 1.5 + 1e-30;
                        const double r = fabs((double)a[i * ldo + d] - b[i * ldo + d]) / bound;
                        if (r > worst) worst = r;
                        bad += r > 1.0;
                    }
                free(p);
                free(v);
                free(a);
                free(b);
            }
    printf("attn_pv: worst diff/bound %.3f\n", worst);
    CHECK(bad == 0, "attn_pv: %d outputs above the bound", bad);
    CHECK(spill == 0, "attn_pv wrote %d values outside its output", spill);
}

int main(void) {
    test_exp();
    test_gelu();
    test_layernorm();
    test_softmax();
    test_quantize_act();
    test_attn_qk();
    test_gemm();
    test_gemm_q_accuracy();
    test_attn_pv();
    if (failures) {
        printf("test_kernels: %d failures\n", failures);
        return 1;
    }
    printf("test_kernels: all passed\n");
    return 0;
}
