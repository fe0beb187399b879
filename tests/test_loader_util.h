// test_loader_util.h - helpers shared by the loader tests: read a model folder, push it through a
// loader in chunks of a given size, compare loaded weights. Test code: exits on harness failures.
#ifndef TEST_LOADER_UTIL_H
#define TEST_LOADER_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bert.h"
#include "model.h"

static int g_fail = 0;
#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            g_fail++;                                                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                                  \
            fprintf(stderr, "\n");                                                                         \
        }                                                                                                  \
    } while (0)

typedef struct {
    char *data;
    size_t n;
} tfile;

// 0 on success, -1 if the file does not exist.
static int tfile_read(const char *path, tfile *f) {
    f->data = NULL;
    f->n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->data = malloc((size_t)n + 1);
    if (!f->data || fread(f->data, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "read error: %s\n", path);
        exit(2);
    }
    f->n = (size_t)n;
    f->data[n] = 0; // text files can be used as C strings
    fclose(fp);
    return 0;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *const small_files[] = {
    "config.json",  "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
    "modules.json", "1_Pooling/config.json", "sentence_bert_config.json",
};
#define N_SMALL_FILES ((int)(sizeof small_files / sizeof small_files[0]))

// A model folder in memory: the small files (absent ones have data NULL) and the weights.
typedef struct {
    tfile small[N_SMALL_FILES];
    tfile weights;
} tmodel;

static void tmodel_read(const char *dir, tmodel *m) {
    char path[1024];
    for (int i = 0; i < N_SMALL_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, small_files[i]);
        tfile_read(path, &m->small[i]);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (tfile_read(path, &m->weights)) {
        fprintf(stderr, "missing %s\n", path);
        exit(2);
    }
}

static void tmodel_free(tmodel *m) {
    for (int i = 0; i < N_SMALL_FILES; i++) free(m->small[i].data);
    free(m->weights.data);
}

typedef struct {
    bert_status status;
    char err[BERT_ERROR_SIZE];
    uint64_t written;
    int has_plan;
    bert_plan plan;
} tload_result;

// Pushes the folder through a fresh loader, weights in chunks of `chunk` bytes (0 = whole file).
static bert_model *tload(const tmodel *tm, const bert_load_params *p, size_t chunk, tload_result *r) {
    bert_loader *l = NULL;
    memset(r, 0, sizeof *r);
    if (bert_loader_init(&l, p) != BERT_STATUS_OK || !l) {
        r->status = BERT_STATUS_OUT_OF_MEMORY;
        return NULL;
    }
    bert_status st = BERT_STATUS_OK;
    for (int i = 0; i < N_SMALL_FILES && !st; i++)
        if (tm->small[i].data) st = bert_loader_add_file(l, small_files[i], tm->small[i].data, tm->small[i].n);
    size_t n = tm->weights.n;
    if (chunk == 0) chunk = n ? n : 1;
    for (size_t off = 0; off < n && !st; off += chunk)
        st = bert_loader_write(l, tm->weights.data + off, n - off < chunk ? n - off : chunk);
    bert_model *m = NULL;
    if (!st) st = bert_loader_finish(l, &m);
    r->status = st;
    snprintf(r->err, sizeof r->err, "%s", bert_loader_error(l));
    r->written = bert_loader_bytes_written(l);
    r->has_plan = bert_loader_has_plan(l);
    if (r->has_plan) bert_loader_get_plan(l, &r->plan);
    bert_loader_free(l);
    return m;
}

static int tensor_same(const bert_tensor *a, const bert_tensor *b) {
    if (a->type != b->type || a->ne0 != b->ne0 || a->ne1 != b->ne1 || a->nbytes != b->nbytes) return 0;
    if ((a->data == NULL) != (b->data == NULL)) return 0;
    return a->nbytes == 0 || memcmp(a->data, b->data, (size_t)a->nbytes) == 0;
}

// Every encoder/embedding tensor bit-identical; with_head also compares classifier and pooler.
static int model_same(const bert_model *a, const bert_model *b, int with_head, char *what, size_t cap) {
    const bert_hparams *x = &a->hp, *y = &b->hp;
    if (x->n_vocab != y->n_vocab || x->n_embd != y->n_embd || x->n_layer != y->n_layer || x->n_ff != y->n_ff ||
        x->n_head != y->n_head || x->n_max_pos != y->n_max_pos || x->n_type_vocab != y->n_type_vocab) {
        snprintf(what, cap, "hparams");
        return 0;
    }
    struct {
        const char *name;
        const bert_tensor *a, *b;
    } g[] = {
        {"tok_embd", &a->tok_embd, &b->tok_embd},   {"pos_embd", &a->pos_embd, &b->pos_embd},
        {"type_embd", &a->type_embd, &b->type_embd}, {"embd_ln_w", &a->embd_ln_w, &b->embd_ln_w},
        {"embd_ln_b", &a->embd_ln_b, &b->embd_ln_b}, {"cls_w", &a->cls_w, &b->cls_w},
        {"cls_b", &a->cls_b, &b->cls_b},             {"pool_w", &a->pool_w, &b->pool_w},
        {"pool_b", &a->pool_b, &b->pool_b},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        if (!with_head && i >= 5) break;
        if (!tensor_same(g[i].a, g[i].b)) {
            snprintf(what, cap, "%s", g[i].name);
            return 0;
        }
    }
    for (int32_t il = 0; il < x->n_layer; il++) {
        const bert_tensor *ta = &a->layers[il].wqkv, *tb = &b->layers[il].wqkv;
        int nt = (int)(sizeof(bert_layer) / sizeof(bert_tensor));
        for (int k = 0; k < nt; k++)
            if (!tensor_same(ta + k, tb + k)) {
                snprintf(what, cap, "layer %d tensor #%d", (int)il, k);
                return 0;
            }
    }
    return 1;
}

#endif
