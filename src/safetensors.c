// safetensors.c - safetensors header -> validated tensor directory.
#include "safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"

static const struct {
    const char *name;
    uint64_t size;
} st_dtypes[] = {
    [BERT_ST_BOOL] = {"BOOL", 1},         [BERT_ST_U8] = {"U8", 1},     [BERT_ST_I8] = {"I8", 1},
    [BERT_ST_F8_E5M2] = {"F8_E5M2", 1},   [BERT_ST_F8_E4M3] = {"F8_E4M3", 1},
    [BERT_ST_I16] = {"I16", 2},           [BERT_ST_U16] = {"U16", 2},   [BERT_ST_F16] = {"F16", 2},
    [BERT_ST_BF16] = {"BF16", 2},         [BERT_ST_I32] = {"I32", 4},   [BERT_ST_U32] = {"U32", 4},
    [BERT_ST_F32] = {"F32", 4},           [BERT_ST_F64] = {"F64", 8},   [BERT_ST_I64] = {"I64", 8},
    [BERT_ST_U64] = {"U64", 8},
};
#define N_DTYPES ((int)(sizeof st_dtypes / sizeof st_dtypes[0]))

const char *bert_st_dtype_name(bert_st_dtype t) {
    return (int)t >= 0 && (int)t < N_DTYPES ? st_dtypes[t].name : "?";
}

uint64_t bert_st_dtype_size(bert_st_dtype t) {
    return (int)t >= 0 && (int)t < N_DTYPES ? st_dtypes[t].size : 0;
}

void bert_st_free(bert_st_dir *dir) {
    free(dir->tensors);
    free(dir->names);
    memset(dir, 0, sizeof *dir);
}

static int cmp_offset(const void *a, const void *b) {
    const bert_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int cmp_name(const void *a, const void *b) {
    const bert_st_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

// Fills one directory entry from its JSON description.
static bert_status parse_entry(bert_st_tensor *t, const json_value *v, char *err) {
    if (v->type != JSON_OBJECT)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: tensor '%s' is not a JSON object", t->name);
    const json_value *dt = bert_json_get(v, "dtype"), *shape = bert_json_get(v, "shape"),
                     *offs = bert_json_get(v, "data_offsets");
    if (!dt || dt->type != JSON_STRING)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: tensor '%s' has no dtype string", t->name);
    int found = -1;
    for (int i = 0; i < N_DTYPES; i++)
        if (bert_json_is_string(dt, st_dtypes[i].name)) found = i;
    if (found < 0)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: tensor '%s' has unknown dtype '%.32s'", t->name,
                         dt->str);
    t->dtype = (bert_st_dtype)found;
    if (!shape || shape->type != JSON_ARRAY)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: tensor '%s' has no shape array", t->name);
    if (shape->len > BERT_ST_MAX_DIMS)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: tensor '%s' has %u dimensions (max %d)", t->name,
                         shape->len, BERT_ST_MAX_DIMS);
    t->n_dims = (int32_t)shape->len;
    uint64_t nbytes = bert_st_dtype_size(t->dtype);
    int overflow = 0;
    for (int32_t i = 0; i < t->n_dims; i++) {
        const json_value *d = bert_json_at(shape, (uint32_t)i);
        if (bert_json_as_u64(d, &t->shape[i]))
            return bert_fail(err, BERT_STATUS_BAD_MODEL,
                             "safetensors: tensor '%s' shape[%d] is not a non-negative integer", t->name, i);
        if (bert_mul_u64(nbytes, t->shape[i], &nbytes)) overflow = 1;
    }
    if (!offs || offs->type != JSON_ARRAY || offs->len != 2 || bert_json_as_u64(bert_json_at(offs, 0), &t->begin) ||
        bert_json_as_u64(bert_json_at(offs, 1), &t->end))
        return bert_fail(err, BERT_STATUS_BAD_MODEL,
                         "safetensors: tensor '%s' needs data_offsets [begin, end] of non-negative integers", t->name);
    if (t->end < t->begin)
        return bert_fail(err, BERT_STATUS_BAD_MODEL,
                         "safetensors: tensor '%s' has reversed data_offsets [%llu, %llu]", t->name,
                         (unsigned long long)t->begin, (unsigned long long)t->end);
    // An overflowing product is refused even when a later dimension is 0: such a shape is absurd.
    if (overflow || nbytes != t->end - t->begin)
        return bert_fail(err, BERT_STATUS_BAD_MODEL,
                         "safetensors: tensor '%s': shape x %s is %s bytes but data_offsets [%llu, %llu] span %llu",
                         t->name, st_dtypes[t->dtype].name, overflow ? "too many" : "a different number of",
                         (unsigned long long)t->begin, (unsigned long long)t->end,
                         (unsigned long long)(t->end - t->begin));
    return BERT_STATUS_OK;
}

bert_status bert_st_parse(bert_st_dir *dir, const char *text, size_t n, char *err) {
    memset(dir, 0, sizeof *dir);
    json_doc doc;
    int rc = bert_json_parse(&doc, text, n);
    if (rc == -2) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "safetensors header: %s", doc.error);
    if (rc) return bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors header is not valid JSON: %s", doc.error);
    bert_status st = BERT_STATUS_OK;
    const json_value *root = doc.root;
    if (root->type != JSON_OBJECT) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors header is not a JSON object");
        goto done;
    }
    size_t n_t = 0, name_bytes = 0;
    for (const json_value *c = root->child; c; c = c->next) {
        if (c->key_len == 12 && memcmp(c->key, "__metadata__", 12) == 0) continue;
        n_t++;
        name_bytes += (size_t)c->key_len + 1; // bounded by the header size: no overflow
    }
    dir->tensors = calloc(n_t ? n_t : 1, sizeof *dir->tensors);
    dir->names = malloc(name_bytes ? name_bytes : 1);
    if (!dir->tensors || !dir->names) {
        st = bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "safetensors: out of memory for %zu tensors", n_t);
        goto done;
    }
    char *np = dir->names;
    for (const json_value *c = root->child; c; c = c->next) {
        if (c->key_len == 12 && memcmp(c->key, "__metadata__", 12) == 0) continue;
        bert_st_tensor *t = &dir->tensors[dir->n];
        memcpy(np, c->key, c->key_len);
        np[c->key_len] = 0;
        t->name = np;
        np += c->key_len + 1;
        dir->n++;
        if ((st = parse_entry(t, c, err))) goto done;
    }
    // duplicates (JSON allows repeated keys; safetensors does not)
    if (dir->n > 1) {
        const bert_st_tensor **by_name = malloc((size_t)dir->n * sizeof *by_name);
        if (!by_name) {
            st = bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "safetensors: out of memory");
            goto done;
        }
        for (int32_t i = 0; i < dir->n; i++) by_name[i] = &dir->tensors[i];
        qsort(by_name, (size_t)dir->n, sizeof *by_name, cmp_name);
        for (int32_t i = 1; i < dir->n; i++)
            if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0) {
                st = bert_fail(err, BERT_STATUS_BAD_MODEL, "safetensors: duplicate tensor '%s'", by_name[i]->name);
                break;
            }
        free(by_name);
        if (st) goto done;
    }
    // names live in dir->names, so sorting the entries keeps them valid
    qsort(dir->tensors, (size_t)dir->n, sizeof *dir->tensors, cmp_offset);
    uint64_t pos = 0;
    for (int32_t i = 0; i < dir->n; i++) {
        const bert_st_tensor *t = &dir->tensors[i];
        if (t->begin < pos) {
            const bert_st_tensor *p = &dir->tensors[i - 1];
            st = bert_fail(err, BERT_STATUS_BAD_MODEL,
                           "safetensors: tensor '%s' [%llu, %llu) overlaps tensor '%s' [%llu, %llu)", t->name,
                           (unsigned long long)t->begin, (unsigned long long)t->end, p->name,
                           (unsigned long long)p->begin, (unsigned long long)p->end);
            goto done;
        }
        if (t->begin > pos) {
            st = bert_fail(err, BERT_STATUS_BAD_MODEL,
                           "safetensors: gap of %llu bytes before tensor '%s' at data offset %llu (data must be "
                           "contiguous)",
                           (unsigned long long)(t->begin - pos), t->name, (unsigned long long)t->begin);
            goto done;
        }
        pos = t->end;
    }
    dir->data_size = pos;
done:
    bert_json_free(&doc);
    if (st) bert_st_free(dir);
    return st;
}
