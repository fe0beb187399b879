// config.c - config.json and sentence-transformers module files.
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "json.h"

void bert_config_init(bert_config *c) {
    memset(c, 0, sizeof *c);
    c->st_pooling = -1;
}

static bert_status parse_doc(json_doc *doc, const char *what, const char *json, size_t n, char *err) {
    int rc = bert_json_parse(doc, json, n);
    if (rc == -2) return bert_fail(err, BERT_STATUS_OUT_OF_MEMORY, "%s: %s", what, doc->error);
    if (rc) return bert_fail(err, BERT_STATUS_BAD_MODEL, "%s is not valid JSON: %s", what, doc->error);
    return BERT_STATUS_OK;
}

// A required (or defaulted) positive integer field.
static bert_status get_pos_int(const json_value *root, const char *key, int32_t def, int32_t *out, char *err) {
    const json_value *v = bert_json_get(root, key);
    if (!v) {
        if (def > 0) {
            *out = def;
            return BERT_STATUS_OK;
        }
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "config.json: missing %s", key);
    }
    int32_t x;
    if (bert_json_as_i32(v, &x) || x <= 0)
        return bert_fail(err, BERT_STATUS_BAD_MODEL, "config.json: %s must be a positive integer below 2^31", key);
    *out = x;
    return BERT_STATUS_OK;
}

bert_status bert_config_parse(bert_config *c, const char *json, size_t n, char *err) {
    json_doc doc;
    bert_status st = parse_doc(&doc, "config.json", json, n, err);
    if (st) return st;
    const json_value *root = doc.root, *v;
    if (root->type != JSON_OBJECT) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "config.json is not a JSON object");
        goto done;
    }
    if ((v = bert_json_get(root, "model_type")) && !bert_json_is_string(v, "bert")) {
        st = bert_fail(err, BERT_STATUS_UNSUPPORTED, "config.json: model_type '%.40s' is not supported (bert only)",
                       v->type == JSON_STRING ? v->str : "?");
        goto done;
    }
    if ((st = get_pos_int(root, "vocab_size", 0, &c->n_vocab, err)) ||
        (st = get_pos_int(root, "hidden_size", 0, &c->n_embd, err)) ||
        (st = get_pos_int(root, "num_hidden_layers", 0, &c->n_layer, err)) ||
        (st = get_pos_int(root, "num_attention_heads", 0, &c->n_head, err)) ||
        (st = get_pos_int(root, "intermediate_size", 0, &c->n_ff, err)) ||
        (st = get_pos_int(root, "max_position_embeddings", 0, &c->n_max_pos, err)) ||
        (st = get_pos_int(root, "type_vocab_size", 2, &c->n_type_vocab, err)))
        goto done;
    if (c->n_embd % c->n_head) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL,
                       "config.json: hidden_size %d is not divisible by num_attention_heads %d", c->n_embd,
                       c->n_head);
        goto done;
    }
    c->layer_norm_eps = 1e-12f;
    if ((v = bert_json_get(root, "layer_norm_eps"))) {
        if (v->type != JSON_NUMBER || !(v->num > 0.0 && v->num < 1.0)) {
            st = bert_fail(err, BERT_STATUS_BAD_MODEL, "config.json: layer_norm_eps must be a number in (0, 1)");
            goto done;
        }
        c->layer_norm_eps = (float)v->num;
    }
    c->act = BERT_ACT_GELU;
    if ((v = bert_json_get(root, "hidden_act"))) {
        if (bert_json_is_string(v, "gelu")) c->act = BERT_ACT_GELU;
        else if (bert_json_is_string(v, "gelu_new") || bert_json_is_string(v, "gelu_pytorch_tanh") ||
                 bert_json_is_string(v, "gelu_fast"))
            c->act = BERT_ACT_GELU_TANH;
        else if (bert_json_is_string(v, "relu")) c->act = BERT_ACT_RELU;
        else {
            st = bert_fail(err, BERT_STATUS_UNSUPPORTED, "config.json: hidden_act '%.40s' is not supported",
                           v->type == JSON_STRING ? v->str : "(not a string)");
            goto done;
        }
    }
    if ((v = bert_json_get(root, "position_embedding_type")) && !bert_json_is_string(v, "absolute")) {
        st = bert_fail(err, BERT_STATUS_UNSUPPORTED,
                       "config.json: position_embedding_type '%.40s' is not supported (absolute only)",
                       v->type == JSON_STRING ? v->str : "?");
        goto done;
    }
    c->n_labels = 0;
    if ((v = bert_json_get(root, "num_labels"))) {
        if (bert_json_as_i32(v, &c->n_labels) || c->n_labels <= 0) {
            st = bert_fail(err, BERT_STATUS_BAD_MODEL, "config.json: num_labels must be a positive integer");
            goto done;
        }
    } else if ((v = bert_json_get(root, "id2label")) && v->type == JSON_OBJECT) {
        c->n_labels = (int32_t)v->len;
    }
done:
    bert_json_free(&doc);
    return st;
}

bert_status bert_config_parse_modules(bert_config *c, const char *json, size_t n, char *err) {
    json_doc doc;
    bert_status st = parse_doc(&doc, "modules.json", json, n, err);
    if (st) return st;
    if (doc.root->type != JSON_ARRAY) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "modules.json is not a JSON array");
        goto done;
    }
    c->st_has_modules = 1;
    c->st_normalize = 0;
    for (const json_value *m = doc.root->child; m; m = m->next) {
        const json_value *t = bert_json_get(m, "type");
        if (!t || t->type != JSON_STRING) {
            st = bert_fail(err, BERT_STATUS_BAD_MODEL, "modules.json: a module has no type string");
            goto done;
        }
        const char *dot = strrchr(t->str, '.');
        const char *base = dot ? dot + 1 : t->str;
        if (strcmp(base, "Normalize") == 0) c->st_normalize = 1;
        else if (strcmp(base, "Transformer") != 0 && strcmp(base, "Pooling") != 0) {
            // Dense, LayerNorm, ... change the output: refuse rather than return wrong vectors
            st = bert_fail(err, BERT_STATUS_UNSUPPORTED, "modules.json: module '%.60s' is not supported", t->str);
            goto done;
        }
    }
done:
    bert_json_free(&doc);
    return st;
}

bert_status bert_config_parse_pooling(bert_config *c, const char *json, size_t n, char *err) {
    json_doc doc;
    bert_status st = parse_doc(&doc, "1_Pooling/config.json", json, n, err);
    if (st) return st;
    if (doc.root->type != JSON_OBJECT) {
        st = bert_fail(err, BERT_STATUS_BAD_MODEL, "1_Pooling/config.json is not a JSON object");
        goto done;
    }
    static const struct {
        const char *key;
        int32_t mode;
    } modes[] = {
        {"pooling_mode_cls_token", BERT_POOLING_CLS},       {"pooling_mode_mean_tokens", BERT_POOLING_MEAN},
        {"pooling_mode_max_tokens", BERT_POOLING_MAX},      {"pooling_mode_mean_sqrt_len_tokens", -2},
        {"pooling_mode_weightedmean_tokens", -2},           {"pooling_mode_lasttoken", -2},
    };
    int n_on = 0;
    c->st_pooling = -2;
    snprintf(c->st_pooling_mode, sizeof c->st_pooling_mode, "none");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const json_value *v = bert_json_get(doc.root, modes[i].key);
        if (v && v->type == JSON_TRUE) {
            n_on++;
            c->st_pooling = modes[i].mode;
            snprintf(c->st_pooling_mode, sizeof c->st_pooling_mode, "%s", modes[i].key + 13);
        }
    }
    if (n_on > 1) { // concatenated poolings
        c->st_pooling = -2;
        snprintf(c->st_pooling_mode, sizeof c->st_pooling_mode, "several modes at once");
    }
done:
    bert_json_free(&doc);
    return st;
}

bert_status bert_config_parse_st(bert_config *c, const char *json, size_t n, char *err) {
    json_doc doc;
    bert_status st = parse_doc(&doc, "sentence_bert_config.json", json, n, err);
    if (st) return st;
    const json_value *v = bert_json_get(doc.root, "max_seq_length");
    if (v && v->type != JSON_NULL) {
        int32_t x;
        if (bert_json_as_i32(v, &x) || x <= 0)
            st = bert_fail(err, BERT_STATUS_BAD_MODEL,
                           "sentence_bert_config.json: max_seq_length must be a positive integer");
        else c->st_max_seq_length = x;
    }
    bert_json_free(&doc);
    return st;
}

int32_t bert_config_max_tokens(const bert_config *c, int32_t explicit_max, int32_t tok_max) {
    int32_t m = c->n_max_pos;
    if (explicit_max > 0) m = explicit_max;
    else if (c->st_max_seq_length > 0) m = c->st_max_seq_length;
    else if (tok_max > 0) m = tok_max;
    return m < c->n_max_pos ? m : c->n_max_pos;
}
