// test_budget.c - the memory plan and the budget check on the tiny fixture.
//   - the plan exists once the header is in, before any weight byte, and equals the loaded model's;
//   - a budget one byte below the plan fails with BUDGET_EXCEEDED before any weight byte is consumed
//     (bytes_written stops at the header), names the parts, and its suggestions are true (q4_0 / a
//     smaller batch load under the same budget);
//   - a budget of exactly the plan succeeds, and the arena is exactly plan.total - plan.vocab, with
//     weights / activations / staging matching the tensors, the workspace and the rows;
//   - effective max_tokens precedence; pooling / normalize defaults from the files.
#include "forward.h"
#include "test_loader_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BERT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BERT_ASAN 1
#endif
#if defined(__GLIBC__) && !defined(BERT_ASAN)
#include <malloc.h>
#define HEAP_IN_USE() (mallinfo2().uordblks + mallinfo2().hblkhd)
#endif

static uint64_t a64(uint64_t v) { return (v + 63) & ~(uint64_t)63; }

static bert_plan header_plan(const tmodel *tm, const bert_load_params *p) {
    bert_loader *l;
    bert_plan plan;
    memset(&plan, 0, sizeof plan);
    bert_loader_init(&l, p);
    for (int i = 0; i < N_SMALL_FILES; i++)
        if (tm->small[i].data) bert_loader_add_file(l, small_files[i], tm->small[i].data, tm->small[i].n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | (unsigned char)tm->weights.data[i];
    bert_status st = bert_loader_write(l, tm->weights.data, (size_t)(8 + hl)); // header only
    CHECK(st == BERT_STATUS_OK, "header-only write: %s", bert_loader_error(l));
    CHECK(bert_loader_has_plan(l), "no plan after the header");
    CHECK(bert_loader_get_plan(l, &plan) == BERT_STATUS_OK, "get_plan");
    CHECK(plan.header_size == 8 + hl, "header_size %llu", (unsigned long long)plan.header_size);
    CHECK(plan.file_size == tm->weights.n, "file_size %llu vs %zu", (unsigned long long)plan.file_size, tm->weights.n);
    bert_loader_free(l); // mid-stream free: must not leak (ASan)
    return plan;
}

static uint64_t tensors_bytes(const bert_model *m) {
    const bert_tensor *g[] = {&m->tok_embd, &m->pos_embd, &m->type_embd, &m->embd_ln_w, &m->embd_ln_b,
                              &m->cls_w,    &m->cls_b,    &m->pool_w,    &m->pool_b};
    uint64_t s = 0;
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) s += a64(g[i]->nbytes) + a64(g[i]->outl_nbytes);
    for (int32_t il = 0; il < m->hp.n_layer; il++) {
        const bert_tensor *t = &m->layers[il].wqkv;
        for (size_t k = 0; k < sizeof(bert_layer) / sizeof(bert_tensor); k++) s += a64(t[k].nbytes) + a64(t[k].outl_nbytes);
    }
    return s;
}

// config.json with one substring replaced (test-side edit of the fixture's text)
static char *config_edit(const tfile *cfg, const char *from, const char *to, size_t *n) {
    const char *at = strstr(cfg->data, from);
    if (!at) {
        fprintf(stderr, "config_edit: '%s' not in config.json\n", from);
        exit(2);
    }
    size_t a = (size_t)(at - cfg->data), fl = strlen(from), tl = strlen(to);
    char *out = malloc(cfg->n - fl + tl + 1);
    memcpy(out, cfg->data, a);
    memcpy(out + a, to, tl);
    memcpy(out + a + tl, at + fl, cfg->n - a - fl);
    *n = cfg->n - fl + tl;
    out[*n] = 0;
    return out;
}

int main(void) {
    tmodel tm;
    memset(&tm, 0, sizeof tm);
    tmodel_read(BERT_FIXTURES "/tiny", &tm);
    bert_load_params p = bert_load_default_params();
    tload_result r;
    char fmt[32], msg[BERT_ERROR_SIZE];

    // --- the plan, from the header alone ---
    bert_plan P = header_plan(&tm, &p);
    CHECK(P.wtype == BERT_TYPE_Q8_0 && P.embd_type == BERT_TYPE_Q8_0, "default types");
    CHECK(P.max_batch == 8 && P.max_tokens == 128, "shape %dx%d (sentence_bert_config max_seq_length is 128)",
          P.max_batch, P.max_tokens);
    CHECK(P.total == P.weights + P.vocab + P.activations + P.staging + a64(sizeof(bert_model)) +
                         a64(2 * sizeof(bert_layer)),
          "total is not the sum of the parts + fixed structs");
    { // more threads than the pool takes are planned as BERT_MAX_THREADS, not reserved for nothing
        bert_load_params pt = p;
        pt.n_threads = BERT_MAX_THREADS;
        const bert_plan at_cap = header_plan(&tm, &pt);
        pt.n_threads = 5000;
        const bert_plan over = header_plan(&tm, &pt);
        CHECK(over.total == at_cap.total, "n_threads 5000 plans %llu bytes, %d plans %llu",
              (unsigned long long)over.total, BERT_MAX_THREADS, (unsigned long long)at_cap.total);
    }

    // --- one byte short: fails at the header, names the parts, suggests q4_0 ---
    for (int pass = 0; pass < 2; pass++) {
        bert_load_params q = p;
        q.memory_budget = P.total - 1;
        bert_model *m = tload(&tm, &q, pass ? 1000 : 0, &r);
        CHECK(!m && r.status == BERT_STATUS_BUDGET_EXCEEDED, "budget-1: %s %s", bert_status_name(r.status), r.err);
        CHECK(r.written == P.header_size, "budget-1: %llu bytes consumed, header is %llu", (unsigned long long)r.written,
              (unsigned long long)P.header_size);
        CHECK(r.has_plan && r.plan.total == P.total, "plan still readable after the budget failure");
        bert_model_free(m);
    }
    snprintf(msg, sizeof msg, "%s", r.err);
    printf("budget message: %s\n", msg);
    const char *parts[] = {"model needs", "weights", "q8_0", "activations", "at 8x128 tokens", "vocab", "staging",
                           "budget is"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        CHECK(strstr(msg, parts[i]), "message lacks '%s'", parts[i]);
    bert_format_bytes(P.total, fmt, sizeof fmt);
    CHECK(strstr(msg, fmt), "message lacks the total %s", fmt);
    bert_load_params p4 = p;
    p4.wtype = BERT_TYPE_Q4_0;
    bert_plan P4 = header_plan(&tm, &p4);
    char want[64];
    snprintf(want, sizeof want, "q4_0 would need %s", bert_format_bytes(P4.total, fmt, sizeof fmt));
    CHECK(strstr(msg, want) && !strstr(msg, "still too much"), "message lacks '%s'", want);
    CHECK(P4.total < P.total && P4.weights < P.weights, "q4_0 plan is not smaller");
    p4.memory_budget = P.total - 1; // the suggestion is true
    bert_model *m4 = tload(&tm, &p4, 4096, &r);
    CHECK(m4 != NULL, "q4_0 under the same budget: %s", r.err);
    bert_model_free(m4);

    // errors are sticky: a further write / finish returns the same status and message
    {
        bert_load_params q = p;
        q.memory_budget = P.total - 1;
        bert_loader *l;
        bert_loader_init(&l, &q);
        for (int i = 0; i < N_SMALL_FILES; i++)
            if (tm.small[i].data) bert_loader_add_file(l, small_files[i], tm.small[i].data, tm.small[i].n);
        bert_status s1 = bert_loader_write(l, tm.weights.data, tm.weights.n);
        char e1[BERT_ERROR_SIZE];
        snprintf(e1, sizeof e1, "%s", bert_loader_error(l));
        bert_status s2 = bert_loader_write(l, tm.weights.data, 10);
        bert_model *mm = NULL;
        bert_status s3 = bert_loader_finish(l, &mm);
        bert_status s4 = bert_loader_add_file(l, "config.json", tm.small[0].data, tm.small[0].n);
        CHECK(s1 == BERT_STATUS_BUDGET_EXCEEDED && s2 == s1 && s3 == s1 && s4 == s1 && !mm, "sticky status");
        CHECK(strcmp(e1, bert_loader_error(l)) == 0, "message changed after the error");
        CHECK(bert_loader_bytes_written(l) == P.header_size, "bytes consumed after the error");
        bert_loader_free(l);
    }

    // harmless calls leave a working loader: an empty write in any state (even before
    // config.json), finish with no out pointer (refused with a message, loader unchanged)
    {
        bert_load_params q = p;
        q.embd_type = BERT_TYPE_DEFAULT;
        bert_loader *l;
        bert_loader_init(&l, &q);
        CHECK(bert_loader_write(l, NULL, 0) == BERT_STATUS_OK, "empty write before config.json");
        for (int i = 0; i < N_SMALL_FILES; i++)
            if (tm.small[i].data) bert_loader_add_file(l, small_files[i], tm.small[i].data, tm.small[i].n);
        CHECK(bert_loader_write(l, tm.weights.data, 0) == BERT_STATUS_OK, "empty write");
        CHECK(bert_loader_finish(l, NULL) == BERT_STATUS_INVALID_ARGUMENT && strstr(bert_loader_error(l), "out is NULL"),
              "finish(NULL) without a message: '%s'", bert_loader_error(l));
        bert_model *mm = NULL;
        CHECK(bert_loader_write(l, tm.weights.data, tm.weights.n) == BERT_STATUS_OK && bert_loader_finish(l, &mm) == BERT_STATUS_OK &&
                  mm && bert_model_hparams(mm) != NULL,
              "the loader still loads: %s", bert_loader_error(l));
        bert_plan mp;
        if (mm) bert_model_get_plan(mm, &mp);
        CHECK(mm && mp.embd_type == q.wtype, "BERT_TYPE_DEFAULT embeddings take wtype");
        bert_model_free(mm);
        bert_loader_free(l);
    }

    // a broken vocab.txt matters only without tokenizer.json, whichever order they come in
    for (int order = 0; order < 3; order++) { // 0: vocab.txt first, 1: last, 2: no tokenizer.json
        bert_loader *l;
        bert_loader_init(&l, &p);
        if (order == 0) bert_loader_add_file(l, "vocab.txt", "", 0);
        for (int i = 0; i < N_SMALL_FILES; i++) {
            const int is_vocab = !strcmp(small_files[i], "vocab.txt"), is_json = !strcmp(small_files[i], "tokenizer.json");
            if (tm.small[i].data && !is_vocab && !(order == 2 && is_json))
                bert_loader_add_file(l, small_files[i], tm.small[i].data, tm.small[i].n);
        }
        if (order > 0) bert_loader_add_file(l, "vocab.txt", "", 0);
        bert_model *mm = NULL;
        bert_status st = bert_loader_write(l, tm.weights.data, tm.weights.n);
        if (!st) st = bert_loader_finish(l, &mm);
        if (order < 2) CHECK(st == BERT_STATUS_OK && mm, "empty vocab.txt (order %d) beside tokenizer.json: %s", order, bert_loader_error(l));
        else CHECK(st == BERT_STATUS_BAD_MODEL && strstr(bert_loader_error(l), "vocab.txt: empty"),
                   "empty vocab.txt alone: %s", bert_loader_error(l));
        bert_model_free(mm);
        bert_loader_free(l);
    }

    // --- exactly the plan: succeeds; the arena is the plan ---
    {
        bert_load_params q = p;
        q.memory_budget = P.total;
        bert_model *m = tload(&tm, &q, 65536, &r);
        CHECK(m != NULL, "budget == plan: %s", r.err);
        if (m) {
            bert_plan mp;
            bert_model_get_plan(m, &mp);
            CHECK(memcmp(&mp, &P, sizeof P) == 0, "model plan differs from the header-time plan");
            CHECK(m->arena_size == P.total - P.vocab, "arena %llu != plan %llu - vocab %llu",
                  (unsigned long long)m->arena_size, (unsigned long long)P.total, (unsigned long long)P.vocab);
            CHECK(tensors_bytes(m) == P.weights, "weights %llu, tensors hold %llu", (unsigned long long)P.weights,
                  (unsigned long long)tensors_bytes(m));
            const bert_hparams *hp = bert_model_hparams(m);
            uint64_t T = (uint64_t)hp->max_tokens * (uint64_t)hp->max_batch;
            uint64_t act = a64(bert_forward_workspace_size(hp, 1)) + 2 * a64(T * 4) + a64((uint64_t)hp->max_batch * 4) +
                           a64((uint64_t)hp->max_batch * 4);
            CHECK(P.activations == act && m->work_size == bert_forward_workspace_size(hp, 1),
                  "activations %llu, expected %llu", (unsigned long long)P.activations, (unsigned long long)act);
            // staging: one F16 row of the widest stored tensor (n_ff) + that row as f32
            uint64_t wmax = (uint64_t)(hp->n_ff > hp->n_embd ? hp->n_ff : hp->n_embd);
            CHECK(P.staging == a64(wmax * 2) + a64(wmax * 4), "staging %llu", (unsigned long long)P.staging);
            CHECK(hp->pooling == BERT_POOLING_MEAN && hp->normalize == 1, "pooling %d normalize %d from the files",
                  hp->pooling, hp->normalize);
            CHECK(bert_model_dim(m) == 32, "dim");
            // every pointer the model holds is inside the arena
            const uint8_t *lo = m->arena, *hi = lo + m->arena_size;
            CHECK((const uint8_t *)m >= lo && (const uint8_t *)m->layers >= lo && (const uint8_t *)m->work >= lo &&
                      (const uint8_t *)m->io_logits + hp->max_batch * 4 <= hi &&
                      (const uint8_t *)m->tok_embd.data + m->tok_embd.nbytes <= hi,
                  "model regions outside the arena");
        }
        bert_model_free(m);
    }

#ifdef HEAP_IN_USE
    // --- the heap after a load is the plan (arena + tokenizer), up to allocator granularity ---
    {
        size_t u0 = HEAP_IN_USE();
        bert_model *m = tload(&tm, &p, 65536, &r);
        size_t u1 = HEAP_IN_USE();
        CHECK(m && u1 - u0 >= P.total && u1 - u0 <= P.total + 32768, "heap grew %zu bytes for a %llu-byte plan",
              u1 - u0, (unsigned long long)P.total);
        printf("heap after load: %zu bytes, plan %llu\n", u1 - u0, (unsigned long long)P.total);
        bert_model_free(m);
    }
#endif

    // --- fewer sequences: with q4_0 one byte short, the message names a batch that fits ---
    {
        bert_load_params q = p4;
        q.memory_budget = P4.total - 1;
        bert_model *m = tload(&tm, &q, 0, &r);
        CHECK(!m && r.status == BERT_STATUS_BUDGET_EXCEEDED, "q4_0 budget-1");
        printf("budget message: %s\n", r.err);
        const char *s = strstr(r.err, "max_batch ");
        int b = 0, t = 0;
        CHECK(s && sscanf(s, "max_batch %d, max_tokens %d", &b, &t) == 2 && b >= 1 && b < 8 && t == 128,
              "no batch suggestion: %s", r.err);
        if (b) {
            q.max_batch = b;
            q.max_tokens = t;
            m = tload(&tm, &q, 0, &r);
            CHECK(m != NULL, "suggested max_batch %d does not fit: %s", b, r.err);
            bert_model_free(m);
            q.max_batch = b + 1; // and it is the largest
            m = tload(&tm, &q, 0, &r);
            CHECK(!m && r.status == BERT_STATUS_BUDGET_EXCEEDED, "max_batch %d fits too", b + 1);
            bert_model_free(m);
        }
        q.memory_budget = 1 << 20; // the weights alone are bigger
        m = tload(&tm, &q, 0, &r);
        CHECK(!m && strstr(r.err, "nothing fits"), "1 MiB: %s", r.err);
        bert_model_free(m);
    }

    // --- effective max_tokens: explicit > sentence_bert_config > tokenizer > max_position_embeddings ---
    {
        bert_load_params q = p;
        q.max_tokens = 64;
        CHECK(header_plan(&tm, &q).max_tokens == 64, "explicit 64");
        q.max_tokens = 100000;
        CHECK(header_plan(&tm, &q).max_tokens == 512, "explicit 100000 is capped at max_position_embeddings");
        tmodel t2 = tm;
        t2.small[7].data = NULL; // no sentence_bert_config.json
        q.max_tokens = 0;
        static const char tc[] = "{\"model_max_length\": 200, \"do_lower_case\": true}";
        t2.small[3].data = (char *)tc; // tokenizer_config.json
        t2.small[3].n = sizeof tc - 1;
        CHECK(header_plan(&t2, &q).max_tokens == 200, "tokenizer model_max_length 200");
        static const char tc2[] = "{\"model_max_length\": 1000000000000000019884624838656}"; // HF's "no limit"
        t2.small[3].data = (char *)tc2;
        t2.small[3].n = sizeof tc2 - 1;
        CHECK(header_plan(&t2, &q).max_tokens == 512, "no limits: max_position_embeddings");
    }

    // --- pooling / normalize ---
    {
        bert_load_params q = p;
        q.pooling = BERT_POOLING_CLS;
        q.normalize = 0;
        bert_model *m = tload(&tm, &q, 0, &r);
        CHECK(m && m->hp.pooling == BERT_POOLING_CLS && m->hp.normalize == 0, "explicit pooling/normalize");
        bert_model_free(m);
        tmodel t2 = tm;
        t2.small[5].data = NULL; // no modules.json: normalize defaults on
        t2.small[6].data = NULL; // no 1_Pooling: mean
        m = tload(&t2, &p, 0, &r);
        CHECK(m && m->hp.pooling == BERT_POOLING_MEAN && m->hp.normalize == 1, "defaults without ST files");
        bert_model_free(m);
    }

    // --- bad parameters: reported by the first call, loader still freeable ---
    {
        bert_load_params q = p;
        q.wtype = (bert_type)7;
        bert_model *m = tload(&tm, &q, 0, &r);
        CHECK(!m && r.status == BERT_STATUS_INVALID_ARGUMENT && strstr(r.err, "wtype"), "bad wtype: %s", r.err);
        q = p;
        q.max_batch = 100000000; // 128 x 1e8 tokens: refused as a parameter problem, at the header
        m = tload(&tm, &q, 0, &r);
        CHECK(!m && r.status == BERT_STATUS_INVALID_ARGUMENT && strstr(r.err, "too large") && !r.has_plan,
              "huge max_batch: %s %s", bert_status_name(r.status), r.err);
        q = p;
        q.max_batch = -3;
        m = tload(&tm, &q, 0, &r);
        CHECK(!m && r.status == BERT_STATUS_INVALID_ARGUMENT, "bad max_batch");
    }

    // --- config.json variants: activation names, labels from id2label ---
    {
        static const struct {
            const char *act;
            bert_act want;
        } acts[] = {{"\"gelu\"", BERT_ACT_GELU}, {"\"gelu_new\"", BERT_ACT_GELU_TANH},
                    {"\"gelu_pytorch_tanh\"", BERT_ACT_GELU_TANH}, {"\"gelu_fast\"", BERT_ACT_GELU_TANH},
                    {"\"relu\"", BERT_ACT_RELU}};
        for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
            tmodel t2 = tm;
            size_t n;
            char *c = config_edit(&tm.small[0], "\"gelu\"", acts[i].act, &n);
            t2.small[0].data = c;
            t2.small[0].n = n;
            bert_model *m = tload(&t2, &p, 0, &r);
            CHECK(m && m->act == acts[i].want, "hidden_act %s: %s", acts[i].act, r.err);
            bert_model_free(m);
            free(c);
        }
        tmodel tc;
        tmodel_read(BERT_FIXTURES "/tiny-cross", &tc);
        size_t n;
        char *c = config_edit(&tc.small[0], "\"num_labels\": 1,", "", &n); // labels from id2label (1)
        tmodel t2 = tc;
        t2.small[0].data = c;
        t2.small[0].n = n;
        bert_model *m = tload(&t2, &p, 0, &r);
        CHECK(m && m->hp.n_labels == 1 && m->cls_w.ne1 == 1 && m->cls_w.type == BERT_TYPE_F32 &&
                  m->pool_w.ne0 == 32 && m->pool_w.ne1 == 32 && m->pool_w.type == BERT_TYPE_Q8_0,
              "cross-encoder without num_labels: %s", r.err);
        bert_model_free(m);
        char *c2 = config_edit(&t2.small[0], "\"0\": \"LABEL_0\"", "\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"", &n);
        t2.small[0].data = c2;
        t2.small[0].n = n;
        m = tload(&t2, &p, 0, &r);
        CHECK(!m && r.status == BERT_STATUS_BAD_MODEL && strstr(r.err, "says 2"), "id2label of 2: %s", r.err);
        free(c);
        free(c2);
        tmodel_free(&tc);
    }

    tmodel_free(&tm);
    printf("test_budget: %d failures\n", g_fail);
    return g_fail ? 1 : 0;
}
