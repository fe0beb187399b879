// kernels_bench.c - GEMM throughput of bertwasm's kernels (src/kernels.h) against the measured
// peak of a register-only SIMD128 loop on the same engine, single thread.
//
//   f32: bert_gemm with f32 weights, counted as 2*T*K*N flops, against a loop of independent
//        f32x4.mul + f32x4.add chains (8 flops per pair; SIMD128 has no fused multiply-add).
//   q8:  bert_gemm with q8_0 weights on pre-quantized activations, counted as 2*T*K*N ops,
//        against a loop of independent i32x4.dot_i16x8_s + i32x4.add chains (16 ops per pair:
//        8 multiplies, 8 adds). The activation quantization is timed separately.
//
// Built twice by tests/bench/run.mjs: natively (SIMDe, the same flags as the native library) and
// for wasm32-wasi with clang-22 -msimd128 (run under node:wasi). Prints one JSON object.
//
// Also reported, without a peak: q4_0 and f16 weight GEMM rates and the activation quantizer's
// throughput.
//
// Under Node run it with --no-liftoff (tests/bench/run.mjs does): every window then runs optimized
// code, and no background compile thread adds to the process CPU time being measured.
//
// usage: kernels_bench [seconds-per-measurement]   (default 0.5; CPU seconds, BENCH_WALL=1 for wall)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "quant.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#else
#include <simde/wasm/simd128.h>
#endif

// Process CPU time, not wall time: on a shared machine a descheduled process would otherwise
// count other jobs' time as its own (seen here: 25% of a core for a whole run). Both loops and the
// GEMM are single-threaded, so CPU time is their compute time. Node's node:wasi implements it.
static int g_wall_clock; // BENCH_WALL=1: wall time instead
static double now_s(void) {
    struct timespec ts;
    if (g_wall_clock || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t rng_state = 12345u;
static float frand(void) { // uniform in [-1, 1)
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xFFFFFF) / (float)(1 << 23) - 1.0f;
}

// Keeps results observable so the compiler cannot drop the loops.
static volatile float g_sink_f;

// ---- peak loops: 12 independent accumulator chains, operands in registers --------------------
// The chains are dependent (each step reads its own accumulator) and there are enough of them to
// hide the mul/add latency, so the loops run at the engine's SIMD issue rate.
// The seeds come from memory at run time (volatile) so nothing folds at compile time.
static volatile float g_seed[4] = {1.0f, 0.999999f, 1e-7f, 0.5f};

#define NACC 12

// One chunk of n steps; a separate function called many times, so that tiered engines (V8
// compiles wasm with Liftoff first and swaps in optimized code per function, not mid-loop) run
// optimized code, as they do for the GEMM. The accumulators live in locals inside the loop.
static __attribute__((noinline)) void f32_chunk(v128_t *accp, v128_t m, v128_t a, uint32_t n) {
    v128_t acc[NACC];
    for (int i = 0; i < NACC; i++) acc[i] = accp[i];
    for (uint32_t k = 0; k < n; k++)
        // IEEE rules forbid the compiler to fold or reassociate these chains (no -ffast-math)
        for (int i = 0; i < NACC; i++) acc[i] = wasm_f32x4_add(wasm_f32x4_mul(acc[i], m), a);
    for (int i = 0; i < NACC; i++) accp[i] = acc[i];
}

static __attribute__((noinline)) void dot_chunk(v128_t *accp, v128_t w, v128_t x, uint32_t n) {
    v128_t acc[NACC];
    for (int i = 0; i < NACC; i++) acc[i] = accp[i];
    for (uint32_t k = 0; k < n; k++)
        // the dot reads the chain's own accumulator, so it cannot be hoisted out of the loop
        // (integer adds of a loop-invariant could be folded into one multiply)
        for (int i = 0; i < NACC; i++) acc[i] = wasm_i32x4_add(wasm_i32x4_dot_i16x8(acc[i], w), x);
    for (int i = 0; i < NACC; i++) accp[i] = acc[i];
}

#define CHUNK 4096u
#define PAIRS 8

// The peak loop's state between windows: its accumulators and operands.
typedef struct {
    int is_dot;
    v128_t acc[NACC], m, a;
} peak_ctx;

static void peak_init(peak_ctx *c, int is_dot) {
    c->is_dot = is_dot;
    c->m = is_dot ? wasm_i16x8_splat((int16_t)(g_seed[0] * 3)) : wasm_f32x4_splat(g_seed[1]);
    c->a = is_dot ? wasm_i32x4_splat((int32_t)(g_seed[3] * 2)) : wasm_f32x4_splat(g_seed[2]);
    for (int i = 0; i < NACC; i++)
        c->acc[i] = is_dot ? wasm_i32x4_splat(i) : wasm_f32x4_splat(g_seed[0] + (float)i * g_seed[2]);
}

// Runs the peak loop for about dur seconds; returns ops/s.
static double peak_window(void *ctx, double dur) {
    peak_ctx *c = ctx;
    uint64_t iters = 0;
    const double t0 = now_s();
    double t;
    do {
        if (c->is_dot) dot_chunk(c->acc, c->m, c->a, CHUNK);
        else f32_chunk(c->acc, c->m, c->a, CHUNK);
        iters += CHUNK;
        t = now_s() - t0;
    } while (t < dur);
    g_sink_f = wasm_f32x4_extract_lane(c->acc[0], 0);
    return (double)iters * NACC * (c->is_dot ? 16.0 : 8.0) / t;
}

// ---- GEMM --------------------------------------------------------------------------------------

typedef struct {
    const bert_gemm_args *a;
    int32_t N;
    float *scratch;
} gemm_ctx;

// Runs the GEMM for about dur seconds (at least one call); returns ops/s (2*T*K*N per call).
static double gemm_window(void *ctx, double dur) {
    const gemm_ctx *c = ctx;
    uint64_t calls = 0;
    const double t0 = now_s();
    double t;
    do {
        bert_gemm(c->a, 0, c->N, c->scratch);
        calls++;
        t = now_s() - t0;
    } while (t < dur);
    g_sink_f = c->a->y[0];
    return (double)calls * 2.0 * c->a->n_tok * (double)c->a->n_in * c->N / t;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    double rate, peak;         // medians of the kernel's and of the peak loop's windows, ops/s
    double pct, pct_lo, pct_hi; // median, min and max of the per-pair ratios kernel / peak, %
} paired_result;

// The kernel against the peak loop in PAIRS pairs of adjacent windows (order alternating within
// pairs), each pair's ratio taken on its own: on a shared machine whose speed drifts from one
// second to the next, a ratio of two figures taken seconds apart (best peak window against best
// kernel window) moved 41-87% for one binary; adjacent windows see the same machine.
static paired_result run_paired(peak_ctx *peak, gemm_ctx *g, double min_s) {
    const double dur = min_s / 4;
    peak_window(peak, dur); // warm-up (caches; a tiered engine's optimized code)
    gemm_window(g, dur);
    double kr[PAIRS], pr[PAIRS], ratio[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        if (i % 2) {
            kr[i] = gemm_window(g, dur);
            pr[i] = peak_window(peak, dur);
        } else {
            pr[i] = peak_window(peak, dur);
            kr[i] = gemm_window(g, dur);
        }
        ratio[i] = 100.0 * kr[i] / pr[i];
    }
    paired_result r;
    r.rate = median(kr, PAIRS);
    r.peak = median(pr, PAIRS);
    r.pct = median(ratio, PAIRS); // sorts ratio
    r.pct_lo = ratio[0];
    r.pct_hi = ratio[PAIRS - 1];
    return r;
}

// The other weight types' rates, without a peak: warm-up, then the median of 4 windows.
static double time_gemm(const bert_gemm_args *a, int32_t N, float *scratch, double min_s) {
    gemm_ctx g = {a, N, scratch};
    gemm_window(&g, min_s / 4);
    double r[4];
    for (int i = 0; i < 4; i++) r[i] = gemm_window(&g, min_s / 4);
    return median(r, 4);
}


typedef struct {
    const char *name;
    int32_t T, K, N; // tokens, reduction, outputs
} shape;

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "kernels_bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

// max |simd - ref| / max |ref| over a few outputs: the benchmark refuses to report a wrong kernel
static double check_vs_ref(const bert_gemm_args *a, int32_t N) {
    bert_gemm_args r = *a;
    const int32_t n_check = N < 8 ? N : 8;
    float *yr = xmalloc((size_t)a->n_tok * a->ldy * sizeof(float));
    r.y = yr;
    bert_gemm_ref(&r, 0, n_check);
    double md = 0, mr = 0;
    for (int32_t t = 0; t < a->n_tok; t++)
        for (int32_t o = 0; o < n_check; o++) {
            const double d = fabs((double)a->y[(int64_t)t * a->ldy + o] - yr[(int64_t)t * a->ldy + o]);
            if (d > md) md = d;
            if (fabs(yr[(int64_t)t * a->ldy + o]) > mr) mr = fabs(yr[(int64_t)t * a->ldy + o]);
        }
    free(yr);
    return mr > 0 ? md / mr : md;
}

int main(int argc, char **argv) {
    const double min_s = argc > 1 ? atof(argv[1]) : 0.5;
    const char *wall = getenv("BENCH_WALL");
    g_wall_clock = wall && wall[0] == '1';
    if (!(min_s > 0)) {
        fprintf(stderr, "usage: kernels_bench [seconds-per-measurement]\n");
        return 2;
    }
    const shape shapes[] = {
        {"minilm_ffn_up", 128, 384, 1536}, // MiniLM intermediate.dense, a 128-token batch
        {"base_ffn_up", 128, 768, 3072},   // bert-base intermediate.dense
    };
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);

    peak_ctx peak_f, peak_i;
    peak_init(&peak_f, 0);
    peak_init(&peak_i, 1);
    paired_result pf[8], pq[8]; // per shape: f32 and q8 against their peak loops
    double res[8][7];           // per shape: -, f32 err, -, q8 err, quantize_act GB/s, q4, f16
    int status = 0;
    for (int s = 0; s < n_shapes; s++) {
        const shape *sh = &shapes[s];
        const int32_t T = sh->T, K = sh->K, N = sh->N;
        float *x = xmalloc((size_t)T * K * sizeof(float));
        float *w = xmalloc((size_t)N * K * sizeof(float));
        float *y = xmalloc((size_t)T * N * sizeof(float));
        for (int64_t i = 0; i < (int64_t)T * K; i++) x[i] = frand();
        for (int64_t i = 0; i < (int64_t)N * K; i++) w[i] = frand() * 0.05f;
        float *scratch = xmalloc(bert_gemm_scratch_floats(K) * sizeof(float));

        bert_gemm_args a;
        memset(&a, 0, sizeof a);
        a.n_tok = T;
        a.n_in = K;
        a.x = x;
        a.ldx = K;
        a.wtype = BERT_TYPE_F32;
        a.w = w;
        a.w_row = (uint64_t)K * sizeof(float);
        a.y = y;
        a.ldy = N;
        a.act = BERT_EPI_NONE;
        gemm_ctx ga = {&a, N, scratch};
        pf[s] = run_paired(&peak_f, &ga, min_s);
        const double f32_err = check_vs_ref(&a, N);

        // q8_0 weights, activations quantized once up front (the forward pass does it per layer)
        const uint64_t row_q8 = bert_row_size(BERT_TYPE_Q8_0, K);
        uint8_t *wq = xmalloc((size_t)(row_q8 * (uint64_t)N));
        for (int32_t o = 0; o < N; o++) bert_quantize_row(BERT_TYPE_Q8_0, w + (int64_t)o * K, wq + o * row_q8, K);
        int16_t *xq = xmalloc((size_t)T * K * sizeof(int16_t));
        float *xd = xmalloc((size_t)T * (K / QK) * sizeof(float));
        uint64_t qcalls = 0;
        double t0 = now_s(), tq;
        do {
            for (int32_t t = 0; t < T; t++) bert_quantize_act(x + (int64_t)t * K, K, xq + (int64_t)t * K, xd + (int64_t)t * bert_act_groups(K));
            qcalls++;
            tq = now_s() - t0;
        } while (tq < min_s / 5);
        const double quant_act_gbs = (double)qcalls * T * K * sizeof(float) / tq * 1e-9;
        bert_gemm_args q = a;
        q.x = NULL;
        q.xq = xq;
        q.xd = xd;
        q.wtype = BERT_TYPE_Q8_0;
        q.w = wq;
        q.w_row = row_q8;
        gemm_ctx gq = {&q, N, scratch};
        pq[s] = run_paired(&peak_i, &gq, min_s);
        const double q8_err = check_vs_ref(&q, N);
        // q4_0 and f16 weights too (same activations): the other storage types' kernel rates
        const uint64_t row_q4 = bert_row_size(BERT_TYPE_Q4_0, K), row_f16 = bert_row_size(BERT_TYPE_F16, K);
        uint8_t *w4 = xmalloc((size_t)(row_q4 * (uint64_t)N)), *wh = xmalloc((size_t)(row_f16 * (uint64_t)N));
        for (int32_t o = 0; o < N; o++) {
            bert_quantize_row(BERT_TYPE_Q4_0, w + (int64_t)o * K, w4 + o * row_q4, K);
            bert_quantize_row(BERT_TYPE_F16, w + (int64_t)o * K, wh + o * row_f16, K);
        }
        bert_gemm_args q4 = q, h = a;
        q4.wtype = BERT_TYPE_Q4_0;
        q4.w = w4;
        q4.w_row = row_q4;
        h.wtype = BERT_TYPE_F16;
        h.w = wh;
        h.w_row = row_f16;
        const double q4_ops = time_gemm(&q4, N, scratch, min_s / 2);
        const double q4_err = check_vs_ref(&q4, N);
        const double f16_ops = time_gemm(&h, N, scratch, min_s / 2);
        const double f16_err = check_vs_ref(&h, N);
        free(w4);
        free(wh);
        if (f32_err > 1e-4 || q8_err > 1e-4 || q4_err > 1e-4 || f16_err > 1e-4) status = 1;
        res[s][5] = q4_ops * 1e-9;
        res[s][6] = f16_ops * 1e-9;

        res[s][1] = f32_err;
        res[s][3] = q8_err;
        res[s][4] = quant_act_gbs;
        free(x);
        free(w);
        free(y);
        free(scratch);
        free(wq);
        free(xq);
        free(xd);
    }
    double peaks_f[8], peaks_i[8]; // the peak loops' figures over all shapes (medians of medians)
    for (int s = 0; s < n_shapes; s++) {
        peaks_f[s] = pf[s].peak;
        peaks_i[s] = pq[s].peak;
    }
    const double peak_f32 = median(peaks_f, n_shapes) * 1e-9, peak_dot = median(peaks_i, n_shapes) * 1e-9;
#ifdef __wasm__
    const char *engine = "wasm32-wasi";
#else
    const char *engine = "native-simde";
#endif
    printf("{\"engine\":\"%s\",\"clock\":\"%s\",\"pairs\":%d,\"peak_f32_gflops\":%.3f,\"peak_dot_i16_gops\":%.3f,\"gemm\":[", engine,
           g_wall_clock ? "wall" : "process-cpu", PAIRS, peak_f32, peak_dot);
    for (int s = 0; s < n_shapes; s++)
        printf("%s{\"shape\":\"%s\",\"T\":%d,\"K\":%d,\"N\":%d,"
               "\"f32_gflops\":%.3f,\"f32_peak_gflops\":%.3f,\"f32_pct_peak\":%.1f,\"f32_pct_range\":[%.1f,%.1f],"
               "\"f32_rel_err\":%.2e,"
               "\"q8_gops\":%.3f,\"q8_peak_gops\":%.3f,\"q8_pct_peak\":%.1f,\"q8_pct_range\":[%.1f,%.1f],"
               "\"q8_rel_err\":%.2e,\"quantize_act_gbs\":%.3f,\"q4_gops\":%.3f,\"f16_gflops\":%.3f}",
               s ? "," : "", shapes[s].name, shapes[s].T, shapes[s].K, shapes[s].N, pf[s].rate * 1e-9, pf[s].peak * 1e-9,
               pf[s].pct, pf[s].pct_lo, pf[s].pct_hi, res[s][1], pq[s].rate * 1e-9, pq[s].peak * 1e-9, pq[s].pct, pq[s].pct_lo,
               pq[s].pct_hi, res[s][3], res[s][4], res[s][5], res[s][6]);
    printf("]}\n");
    if (status) fprintf(stderr, "kernels_bench: a SIMD kernel disagrees with its reference (> 1e-4)\n");
    return status;
}
