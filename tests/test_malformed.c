// test_malformed.c - every file of the malformed corpus (tests/fixtures/malformed, written by
// tests/gen/make_malformed.py) gives its specific status and message, whole and in small chunks,
// and nothing crashes, leaks (ASan) or hands out a model. After the error the loader stays in it.
#include "json.h"
#include "test_loader_util.h"

#define MAL BERT_FIXTURES "/malformed"

static bert_status status_from_name(const char *s) {
    for (int i = 0; i <= BERT_STATUS_BAD_STATE; i++)
        if (strcmp(bert_status_name((bert_status)i), s) == 0) return (bert_status)i;
    return (bert_status)-1;
}

// The case folder's own small files override the base model's; `omit` drops some.
static void read_case(const json_value *c, tmodel *tm) {
    const json_value *file = bert_json_get(c, "file"), *base = bert_json_get(c, "base"), *omit = bert_json_get(c, "omit");
    char bdir[1024], cdir[1024], path[1200];
    snprintf(bdir, sizeof bdir, "%s/%s", strcmp(base->str, "micro") == 0 ? MAL : BERT_FIXTURES, base->str);
    snprintf(cdir, sizeof cdir, "%s/%s", MAL, file->str);
    *strrchr(cdir, '/') = 0;
    memset(tm, 0, sizeof *tm);
    for (int i = 0; i < N_SMALL_FILES; i++) {
        int skip = 0;
        for (const json_value *o = omit ? omit->child : NULL; o; o = o->next) skip |= bert_json_is_string(o, small_files[i]);
        if (skip) continue;
        snprintf(path, sizeof path, "%s/%s", cdir, small_files[i]);
        if (tfile_read(path, &tm->small[i]) != 0) {
            snprintf(path, sizeof path, "%s/%s", bdir, small_files[i]);
            tfile_read(path, &tm->small[i]);
        }
    }
    snprintf(path, sizeof path, "%s/%s", MAL, file->str);
    if (tfile_read(path, &tm->weights)) {
        fprintf(stderr, "missing %s\n", path);
        exit(2);
    }
}

int main(void) {
    tfile mf;
    if (tfile_read(MAL "/manifest.json", &mf)) {
        fprintf(stderr, "missing %s/manifest.json (run tests/gen/make_malformed.py)\n", MAL);
        return 2;
    }
    json_doc doc;
    if (bert_json_parse(&doc, mf.data, mf.n) || doc.root->type != JSON_ARRAY) {
        fprintf(stderr, "bad manifest\n");
        return 2;
    }
    int n_cases = 0, n_bad = 0;
    static const size_t chunks[] = {0, 3, 1};
    for (const json_value *c = doc.root->child; c; c = c->next) {
        const char *file = bert_json_get(c, "file")->str, *frag = bert_json_get(c, "message_contains")->str;
        bert_status want = status_from_name(bert_json_get(c, "status")->str);
        tmodel tm;
        read_case(c, &tm);
        n_cases++;
        n_bad += want != BERT_STATUS_OK;
        char first_err[BERT_ERROR_SIZE] = "";
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            if (chunks[k] == 1 && tm.weights.n > 100000) continue;
            bert_load_params p = bert_load_default_params();
            const json_value *budget = bert_json_get(c, "budget");
            uint64_t b = 0;
            if (budget && !bert_json_as_u64(budget, &b)) p.memory_budget = b;
            tload_result r;
            bert_model *m = tload(&tm, &p, chunks[k], &r);
            CHECK(r.status == want, "%s (chunk %zu): got %s, want %s: %s", file, chunks[k], bert_status_name(r.status),
                  bert_status_name(want), r.err);
            if (want != BERT_STATUS_OK) {
                CHECK(!m, "%s: a model came back with an error", file);
                CHECK(strstr(r.err, frag) != NULL, "%s: message \"%s\" lacks \"%s\"", file, r.err, frag);
                if (k == 0) snprintf(first_err, sizeof first_err, "%s", r.err);
                else CHECK(strcmp(first_err, r.err) == 0, "%s: chunk %zu message differs: %s", file, chunks[k], r.err);
            } else {
                CHECK(m != NULL, "%s: no model", file);
            }
            bert_model_free(m);
        }
        // the error state is sticky: more bytes, a small file or finish give the same status and message
        if (want != BERT_STATUS_OK) {
            bert_loader *l = NULL;
            bert_load_params p = bert_load_default_params();
            uint64_t b = 0;
            if (!bert_json_as_u64(bert_json_get(c, "budget"), &b)) p.memory_budget = b;
            bert_loader_init(&l, &p);
            bert_status st = BERT_STATUS_OK;
            for (int i = 0; i < N_SMALL_FILES && !st; i++)
                if (tm.small[i].data) st = bert_loader_add_file(l, small_files[i], tm.small[i].data, tm.small[i].n);
            if (!st) st = bert_loader_write(l, tm.weights.data, tm.weights.n);
            bert_model *m = NULL;
            if (!st) st = bert_loader_finish(l, &m);
            char e1[BERT_ERROR_SIZE];
            snprintf(e1, sizeof e1, "%s", bert_loader_error(l));
            uint64_t w1 = bert_loader_bytes_written(l);
            bert_status s2 = bert_loader_write(l, "\0\0\0\0", 4);
            bert_status s3 = bert_loader_add_file(l, "vocab.txt", "[CLS]\n", 6);
            bert_status s4 = bert_loader_finish(l, &m);
            CHECK(st == want && s2 == st && s3 == st && s4 == st && !m, "%s: not sticky (%s %s %s %s)", file,
                  bert_status_name(st), bert_status_name(s2), bert_status_name(s3), bert_status_name(s4));
            CHECK(strcmp(e1, bert_loader_error(l)) == 0 && w1 == bert_loader_bytes_written(l),
                  "%s: message or byte count changed after the error", file);
            bert_loader_free(l);
        }
        if (want != BERT_STATUS_OK && getenv("BERT_VERBOSE")) printf("%-28s %-16s %s\n", file, bert_status_name(want), first_err);
        tmodel_free(&tm);
    }
    CHECK(n_bad >= 40, "only %d malformed cases", n_bad);
    bert_json_free(&doc);
    free(mf.data);
    printf("test_malformed: %d cases (%d malformed), %d failures\n", n_cases, n_bad, g_fail);
    return g_fail ? 1 : 0;
}
