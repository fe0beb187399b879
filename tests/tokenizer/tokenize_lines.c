// tokenize_lines.c - test driver for the tokenizer (src/tokenizer.h): loads a model folder's
// tokenizer files, reads stdin, splits it on '\n' and prints the token ids of each line.
// Built natively by CMake (build/tests/tokenize_lines) and for wasm32-wasi (tests/tokenizer/build_wasi.sh).
//
//   tokenize_lines DIR [--vocab] [--pair] [--offsets] [--types] [--max N] [--bench SECONDS]
//     DIR        folder with tokenizer.json (default) or vocab.txt (--vocab), and tokenizer_config.json
//     --pair     lines 2k and 2k+1 form a pair (one output line per pair)
//     --offsets  print id:begin:end (byte offsets in the line)
//     --types    append " | " and the token type ids
//     --max N    truncate to N tokens (default: no truncation)
//     --bench S  no output; tokenize all lines repeatedly for about S seconds, print tokens/s to stderr
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "tokenizer.h"

static char *read_all(FILE *f, size_t *n) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0) break;
        len += r;
    }
    *n = len;
    return buf;
}

static char *read_file(const char *dir, const char *name, size_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *d = read_all(f, n);
    fclose(f);
    return d;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [--vocab] [--pair] [--offsets] [--types] [--max N] [--bench S]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int use_vocab = 0, pair = 0, show_offsets = 0, show_types = 0;
    int32_t max_tokens = 0;
    double bench = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--vocab")) use_vocab = 1;
        else if (!strcmp(argv[i], "--pair")) pair = 1;
        else if (!strcmp(argv[i], "--offsets")) show_offsets = 1;
        else if (!strcmp(argv[i], "--types")) show_types = 1;
        else if (!strcmp(argv[i], "--max") && i + 1 < argc) max_tokens = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench = atof(argv[++i]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char err[BERT_ERROR_SIZE];
    size_t n;
    char *data = read_file(dir, use_vocab ? "vocab.txt" : "tokenizer.json", &n);
    if (!data) {
        fprintf(stderr, "cannot read %s/%s\n", dir, use_vocab ? "vocab.txt" : "tokenizer.json");
        return 1;
    }
    bert_tokenizer *t;
    bert_status st = use_vocab ? bert_tokenizer_from_vocab_txt(&t, data, n, err) : bert_tokenizer_from_json(&t, data, n, err);
    free(data);
    if (st) {
        fprintf(stderr, "load: %s\n", err);
        return 1;
    }
    data = read_file(dir, "tokenizer_config.json", &n);
    if (data) {
        st = bert_tokenizer_apply_config(t, data, n, err);
        free(data);
        if (st) {
            fprintf(stderr, "config: %s\n", err);
            return 1;
        }
    }

    size_t len;
    char *in = read_all(stdin, &len);
    if (!in) return 1;
    // Lines: '\n'-separated; a final line without '\n' counts, an empty tail after '\n' does not.
    size_t n_lines = 0, maxlen = 0;
    for (size_t i = 0, s = 0; i <= len; i++) {
        if (i == len ? i > s : in[i] == '\n') {
            n_lines++;
            if (i - s > maxlen) maxlen = i - s;
            s = i + 1;
        }
    }
    size_t *lb = malloc((n_lines + 1) * sizeof *lb), *le = malloc((n_lines + 1) * sizeof *le);
    n_lines = 0;
    for (size_t i = 0, s = 0; i <= len; i++) {
        if (i == len ? i > s : in[i] == '\n') {
            lb[n_lines] = s;
            le[n_lines++] = i;
            s = i + 1;
        }
    }
    int32_t cap = (int32_t)(2 * 4 * maxlen + 16);
    int32_t *ids = malloc(cap * sizeof *ids), *types = malloc(cap * sizeof *types), *offs = malloc(2 * cap * sizeof *offs);
    if (!lb || !le || !ids || !types || !offs) return 1;
    size_t step = pair ? 2 : 1;
    int rc = 0;
    if (bench > 0) {
        double t0 = now(), t1;
        long long tokens = 0, rounds = 0;
        do {
            for (size_t i = 0; i + step <= n_lines; i += step) {
                bert_encoding_info info;
                st = bert_tokenizer_encode(t, in + lb[i], le[i] - lb[i], pair ? in + lb[i + 1] : NULL,
                                           pair ? le[i + 1] - lb[i + 1] : 0, max_tokens, ids, types, offs, cap,
                                           &info, err);
                if (st) {
                    fprintf(stderr, "line %zu: %s\n", i + 1, err);
                    return 1;
                }
                tokens += info.n_tokens;
            }
            rounds++;
            t1 = now();
        } while (t1 - t0 < bench);
        bert_tokenizer_free(t);
        free(in);
        free(lb);
        free(le);
        free(ids);
        free(types);
        free(offs);
        printf("{\"tokens\": %lld, \"rounds\": %lld, \"seconds\": %.4f, \"tokens_per_s\": %.0f, \"bytes_per_s\": %.0f}\n",
               tokens, rounds, t1 - t0, tokens / (t1 - t0), (double)len * rounds / (t1 - t0));
        return 0;
    }
    FILE *out = stdout;
    for (size_t i = 0; i + step <= n_lines; i += step) {
        bert_encoding_info info;
        st = bert_tokenizer_encode(t, in + lb[i], le[i] - lb[i], pair ? in + lb[i + 1] : NULL,
                                   pair ? le[i + 1] - lb[i + 1] : 0, max_tokens, ids, types, offs, cap, &info, err);
        if (st) {
            fprintf(out, "ERROR %s\n", err);
            rc = 1;
            continue;
        }
        for (int32_t k = 0; k < info.n_tokens; k++) {
            if (show_offsets) fprintf(out, k ? " %d:%d:%d" : "%d:%d:%d", ids[k], offs[2 * k], offs[2 * k + 1]);
            else fprintf(out, k ? " %d" : "%d", ids[k]);
        }
        if (show_types) {
            fputs(" |", out);
            for (int32_t k = 0; k < info.n_tokens; k++) fprintf(out, " %d", types[k]);
        }
        fputc('\n', out);
    }
    bert_tokenizer_free(t);
    free(in);
    free(lb);
    free(le);
    free(ids);
    free(types);
    free(offs);
    return rc;
}
