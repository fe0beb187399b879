// json.c - strict JSON reader. Runs the same recursive-descent parser twice: the first pass
// validates and counts nodes and string bytes, the second fills two exact-size allocations.
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, pos;
    int depth;
    // build pass only
    json_value *nodes;
    size_t n_nodes;
    char *strings;
    size_t n_strings;
    char *error;
} parser;

static int fail(parser *p, const char *what) {
    snprintf(p->error, 160, "JSON: %s at byte %zu", what, p->pos);
    return -1;
}

static void skip_ws(parser *p) {
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static json_value *new_node(parser *p, json_type t) {
    json_value *v = NULL;
    if (p->nodes) {
        v = &p->nodes[p->n_nodes];
        memset(v, 0, sizeof *v);
        v->type = t;
    }
    p->n_nodes++;
    return v;
}

static int hex4(parser *p, uint32_t *out) {
    if (p->n - p->pos < 4) return fail(p, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return fail(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static void put_byte(parser *p, char c) {
    if (p->strings) p->strings[p->n_strings] = c;
    p->n_strings++;
}

static void put_utf8(parser *p, uint32_t cp) {
    if (cp < 0x80) {
        put_byte(p, (char)cp);
    } else if (cp < 0x800) {
        put_byte(p, (char)(0xC0 | (cp >> 6)));
        put_byte(p, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put_byte(p, (char)(0xE0 | (cp >> 12)));
        put_byte(p, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_byte(p, (char)(0x80 | (cp & 0x3F)));
    } else {
        put_byte(p, (char)(0xF0 | (cp >> 18)));
        put_byte(p, (char)(0x80 | ((cp >> 12) & 0x3F)));
        put_byte(p, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_byte(p, (char)(0x80 | (cp & 0x3F)));
    }
}

// Length of a valid UTF-8 sequence starting at s[0..avail), or 0 if invalid.
static size_t utf8_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    size_t need;
    uint32_t min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) need = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) need = 4, min = 0x10000;
    else return 0;
    if (avail < need) return 0;
    uint32_t cp = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return need;
}

// Parses a string at p->pos (which is at the opening quote); returns start offset in strings.
static int parse_string(parser *p, size_t *start, uint32_t *len) {
    p->pos++; // opening quote
    *start = p->n_strings;
    for (;;) {
        if (p->pos >= p->n) return fail(p, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) return fail(p, "control character in string");
        if (c == '\\') {
            p->pos++;
            if (p->pos >= p->n) return fail(p, "unterminated escape");
            char e = p->s[p->pos++];
            switch (e) {
            case '"': put_byte(p, '"'); break;
            case '\\': put_byte(p, '\\'); break;
            case '/': put_byte(p, '/'); break;
            case 'b': put_byte(p, '\b'); break;
            case 'f': put_byte(p, '\f'); break;
            case 'n': put_byte(p, '\n'); break;
            case 'r': put_byte(p, '\r'); break;
            case 't': put_byte(p, '\t'); break;
            case 'u': {
                uint32_t cp;
                if (hex4(p, &cp)) return -1;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (p->n - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                        size_t save = p->pos;
                        p->pos += 2;
                        if (hex4(p, &lo)) return -1;
                        if (lo >= 0xDC00 && lo <= 0xDFFF) {
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else {
                            p->pos = save;
                            cp = 0xFFFD; // lone high surrogate
                        }
                    } else {
                        cp = 0xFFFD;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    cp = 0xFFFD; // lone low surrogate
                }
                put_utf8(p, cp);
                break;
            }
            default: p->pos--; return fail(p, "bad escape in string");
            }
            continue;
        }
        size_t l = utf8_len((const unsigned char *)p->s + p->pos, p->n - p->pos);
        if (l == 0) return fail(p, "invalid UTF-8 in string");
        for (size_t i = 0; i < l; i++) put_byte(p, p->s[p->pos + i]);
        p->pos += l;
    }
    size_t l = p->n_strings - *start;
    if (l > UINT32_MAX - 1) return fail(p, "string too long");
    *len = (uint32_t)l;
    put_byte(p, '\0');
    return 0;
}

static int parse_number(parser *p, json_value *v) {
    size_t b = p->pos;
    const char *s = p->s;
    if (p->pos < p->n && s[p->pos] == '-') p->pos++;
    if (p->pos >= p->n) return fail(p, "truncated number");
    if (s[p->pos] == '0') {
        p->pos++;
    } else if (s[p->pos] >= '1' && s[p->pos] <= '9') {
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    } else {
        return fail(p, "bad number");
    }
    if (p->pos < p->n && s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->n || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad number fraction");
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->n && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->n && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->n || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad number exponent");
        while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (v) {
        size_t len = p->pos - b;
        char buf[64];
        if (len >= sizeof buf) {
            // Very long literal: keep the text for exact readers, value by prefix is meaningless.
            v->num = 0.0;
        } else {
            memcpy(buf, s + b, len);
            buf[len] = '\0';
            v->num = strtod(buf, NULL);
        }
        v->str = s + b;
        v->len = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len);
    }
    return 0;
}

static int match(parser *p, const char *lit) {
    size_t l = strlen(lit);
    if (p->n - p->pos < l || memcmp(p->s + p->pos, lit, l) != 0) return fail(p, "unexpected token");
    p->pos += l;
    return 0;
}

static int parse_value(parser *p, json_value **out);

static int parse_container(parser *p, json_value *v, int is_object) {
    char close = is_object ? '}' : ']';
    if (++p->depth > JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    p->pos++; // opening bracket
    skip_ws(p);
    json_value *last = NULL;
    uint32_t count = 0;
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        size_t kstart = 0;
        uint32_t klen = 0;
        skip_ws(p);
        if (is_object) {
            if (p->pos >= p->n || p->s[p->pos] != '"') return fail(p, "expected object key");
            if (parse_string(p, &kstart, &klen)) return -1;
            skip_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') return fail(p, "expected ':'");
            p->pos++;
        }
        json_value *child;
        if (parse_value(p, &child)) return -1;
        if (count == UINT32_MAX) return fail(p, "too many elements");
        count++;
        if (child) {
            if (is_object) {
                child->key = p->strings + kstart;
                child->key_len = klen;
            }
            if (last) last->next = child;
            else v->child = child;
            last = child;
        }
        skip_ws(p);
        if (p->pos >= p->n) return fail(p, is_object ? "unterminated object" : "unterminated array");
        char c = p->s[p->pos++];
        if (c == close) break;
        if (c != ',') {
            p->pos--;
            return fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    if (v) v->len = count;
    p->depth--;
    return 0;
}

static int parse_value(parser *p, json_value **out) {
    skip_ws(p);
    *out = NULL;
    if (p->pos >= p->n) return fail(p, "unexpected end of input");
    char c = p->s[p->pos];
    json_value *v;
    switch (c) {
    case '{':
        v = new_node(p, JSON_OBJECT);
        if (parse_container(p, v, 1)) return -1;
        break;
    case '[':
        v = new_node(p, JSON_ARRAY);
        if (parse_container(p, v, 0)) return -1;
        break;
    case '"': {
        v = new_node(p, JSON_STRING);
        size_t start;
        uint32_t len;
        if (parse_string(p, &start, &len)) return -1;
        if (v) {
            v->str = p->strings + start;
            v->len = len;
        }
        break;
    }
    case 't': v = new_node(p, JSON_TRUE); if (match(p, "true")) return -1; break;
    case 'f': v = new_node(p, JSON_FALSE); if (match(p, "false")) return -1; break;
    case 'n': v = new_node(p, JSON_NULL); if (match(p, "null")) return -1; break;
    default:
        if (c != '-' && (c < '0' || c > '9')) return fail(p, "unexpected character");
        v = new_node(p, JSON_NUMBER);
        if (parse_number(p, v)) return -1;
    }
    *out = v;
    return 0;
}

static int run(parser *p, json_value **root) {
    p->pos = 0;
    p->depth = 0;
    p->n_nodes = 0;
    p->n_strings = 0;
    if (parse_value(p, root)) return -1;
    skip_ws(p);
    if (p->pos != p->n) return fail(p, "trailing characters after JSON value");
    return 0;
}

int bert_json_parse(json_doc *doc, const char *text, size_t n) {
    memset(doc, 0, sizeof *doc);
    parser p = {0};
    p.s = text;
    p.n = n;
    p.error = doc->error;
    json_value *root;
    if (!text && n) return fail(&p, "no input");
    if (run(&p, &root)) return -1; // count pass
    size_t n_nodes = p.n_nodes, n_strings = p.n_strings;
    if (n_nodes > SIZE_MAX / sizeof(json_value)) return -2;
    doc->nodes = malloc(n_nodes * sizeof(json_value));
    doc->strings = malloc(n_strings ? n_strings : 1);
    if (!doc->nodes || !doc->strings) {
        bert_json_free(doc);
        snprintf(doc->error, sizeof doc->error, "JSON: out of memory for %zu nodes", n_nodes);
        return -2;
    }
    p.nodes = doc->nodes;
    p.strings = doc->strings;
    if (run(&p, &root)) { // cannot fail after a good count pass, kept for safety
        bert_json_free(doc);
        return -1;
    }
    doc->root = root;
    return 0;
}

void bert_json_free(json_doc *doc) {
    free(doc->nodes);
    free(doc->strings);
    doc->nodes = NULL;
    doc->strings = NULL;
    doc->root = NULL;
}

const json_value *bert_json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    size_t kl = strlen(key);
    const json_value *found = NULL;
    for (const json_value *c = obj->child; c; c = c->next)
        if (c->key_len == kl && memcmp(c->key, key, kl) == 0) found = c; // last one wins, like JS
    return found;
}

const json_value *bert_json_at(const json_value *arr, uint32_t i) {
    if (!arr || arr->type != JSON_ARRAY) return NULL;
    const json_value *c = arr->child;
    while (c && i--) c = c->next;
    return c;
}

int bert_json_as_u64(const json_value *v, uint64_t *out) {
    if (!v || v->type != JSON_NUMBER || v->len == 0) return -1;
    uint64_t x = 0;
    for (uint32_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (c < '0' || c > '9') return -1;
        uint64_t d = (uint64_t)(c - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

int bert_json_as_i32(const json_value *v, int32_t *out) {
    if (!v || v->type != JSON_NUMBER) return -1;
    double d = v->num;
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != (double)(int64_t)d) return -1;
    *out = (int32_t)d;
    return 0;
}

int bert_json_is_string(const json_value *v, const char *s) {
    return v && v->type == JSON_STRING && v->len == strlen(s) && memcmp(v->str, s, v->len) == 0;
}
