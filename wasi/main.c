// wasi/main.c - the bertwasm command-line tool: one main for wasm32-wasi (preview1) and native.
//
//   bertwasm embed    --model DIR [options] [TEXT...]   texts as arguments or one per line on stdin
//   bertwasm tokenize --model DIR [TEXT...]
//   bertwasm rerank   --model DIR --query TEXT [DOC...]
//   bertwasm plan     --model DIR [options]             memory plan from the safetensors header alone
//   bertwasm info     --model DIR
//
// Model files are read with plain open/read (no mmap, no whole-file read of the weights): the
// small files whole, model.safetensors in fixed 1 MiB chunks pushed into bert_loader_write. Input
// lines are streamed and tokenized one at a time (one line held, however large --batch is); output
// records are written as each batch completes, and stdout is flushed before input is waited for.
//
// Exit codes: 0 success, 1 runtime error (model, budget, I/O), 2 usage error. Every failure prints
// one line on stderr: "bertwasm: <file>: <problem>". With --output FILE the result is written to
// FILE.tmp-<id> and renamed at the end, so a failure never leaves a half-written FILE.
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L // getline, fseeko; wasi-libc and glibc alike
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __wasi__
#include <sys/random.h> // getentropy (WASI random_get)
#endif

#include "bert.h"
#include "common.h"
#include "json.h"
#include "tokenizer.h"

#define CLI_CHUNK (1u << 20)            // model.safetensors read size: the only weight-byte window
#define CLI_SMALL_FILE_MAX (256u << 20) // refuse "small" files (tokenizer.json, ...) above this
#define CLI_WINDOW (64u << 10)          // stdin read size; lines inside it are used in place
#define CLI_MAX_LINE (INT32_MAX / 8)    // longest text the tokenizer takes (bert.h: 256 MiB - 1 byte)
#define CLI_MAX_BATCH (1 << 16)         // --batch range (a plan that large is refused by its size anyway)
#define CLI_MAX_TOKENS (1 << 20)        // --max-tokens range (the model's position table caps it further)

// EXIT_PIPE: stdout was closed early (`| head`): stop quietly with the status a process stopped by
// SIGPIPE reports, as the native build does (WASI has no signals).
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_PIPE = 141 };

enum { CMD_EMBED = 1, CMD_TOKENIZE = 2, CMD_RERANK = 4, CMD_PLAN = 8, CMD_INFO = 16 };
enum { FMT_JSONL = 0, FMT_F32 = 1, FMT_NPY = 2 };

typedef struct {
    int cmd;
    const char *cmd_name;
    const char *model;
    int has_dtype;
    bert_type dtype;
    uint64_t budget;
    int32_t max_tokens;
    int32_t batch;
    int32_t pooling;
    int normalize;
    int format;
    const char *output;
    const char *query;
    int verbose;
    uint64_t max_line; // longest stdin line accepted, bytes (0: CLI_MAX_LINE)
    char **texts; // positional arguments
    int n_texts;
} cli_opts;

// ---------------------------------------------------------------------------------------------
// Errors and the output file

static struct {
    FILE *f;
    char *tmp_path;   // non-NULL while a --output temp file exists
    const char *path; // final path
    int is_stdout;
    int broken_pipe;  // a write to stdout failed with EPIPE: nothing more to say
} g_out;

static void out_discard(void) {
    if (g_out.tmp_path) {
        if (g_out.f) fclose(g_out.f);
        g_out.f = NULL;
        unlink(g_out.tmp_path);
        free(g_out.tmp_path);
        g_out.tmp_path = NULL;
    }
}

// One line on stderr: "bertwasm: <where>: <message>".
static void errorf(const char *where, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void errorf(const char *where, const char *fmt, ...) {
    va_list ap;
    fputs("bertwasm: ", stderr);
    if (where && *where) fprintf(stderr, "%s: ", where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

// "cannot open" / "cannot create" (err: errno). A WASI program sees only the directories the runtime
// granted: an absolute or "../" path outside them looks missing, so say how to grant it.
static void open_failed(const char *path, const char *what, int err) {
#ifdef __wasi__
    if (err == ENOTCAPABLE || (err == ENOENT && (path[0] == '/' || strncmp(path, "..", 2) == 0))) {
        errorf(path, "%s: %s (WASI sees only granted directories: wasmtime --dir DIR, or BERTWASM_DIRS=DIR for "
                     "npx bertwasm)", what, strerror(err));
        return;
    }
#endif
    errorf(path, "%s: %s", what, strerror(err));
}

// A failed write to the output (err: its errno). A closed pipe is not an error worth a message.
static void write_failed(int err) {
    if (g_out.is_stdout && err == EPIPE) g_out.broken_pipe = 1;
    else errorf(g_out.is_stdout ? "stdout" : g_out.tmp_path, "write failed: %s", strerror(err));
}

static int fail_usage(const cli_opts *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail_usage(const cli_opts *o, const char *fmt, ...) {
    va_list ap;
    fputs("bertwasm: ", stderr);
    if (o && o->cmd_name) fprintf(stderr, "%s: ", o->cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (o && o->cmd_name) fprintf(stderr, " (see 'bertwasm %s --help')\n", o->cmd_name);
    else fputs(" (see 'bertwasm --help')\n", stderr);
    return EXIT_USAGE;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        errorf(NULL, "out of memory (%zu bytes)", n);
        out_discard();
        exit(EXIT_RUNTIME);
    }
    return p;
}

static char *path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = xmalloc(a + b + 2);
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

// A name taken from a model file (modules.json paths) must stay inside the model folder.
static int name_is_safe(const char *name) {
    if (!name || name[0] == '/' || strchr(name, '\\') || strchr(name, ':')) return 0;
    const char *s = name;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') return 0;
        s += n;
        if (*s == '/') s++;
    }
    return 1;
}

// Unique suffix for the temp file: WASI preview1 has no process ids, so use random bytes there.
static void temp_suffix(char *buf, size_t n) {
#ifdef __wasi__
    unsigned char r[6] = {0};
    if (getentropy(r, sizeof r) != 0) memset(r, 0x5a, sizeof r);
    snprintf(buf, n, "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
#else
    snprintf(buf, n, "%ld", (long)getpid());
#endif
}

static int out_open(const cli_opts *o) {
    static char stdout_buf[1 << 16];
    g_out.path = o->output;
    if (!o->output || strcmp(o->output, "-") == 0) {
        g_out.f = stdout;
        g_out.is_stdout = 1;
        setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
        return 0;
    }
    char suffix[32];
    temp_suffix(suffix, sizeof suffix);
    size_t n = strlen(o->output) + strlen(suffix) + 8;
    g_out.tmp_path = xmalloc(n);
    snprintf(g_out.tmp_path, n, "%s.tmp-%s", o->output, suffix);
    g_out.f = fopen(g_out.tmp_path, "wb");
    if (!g_out.f) {
        // name the --output path first: the temporary name alone reads like someone else's file
        int e = errno;
        char *what = xmalloc(n + 16);
        snprintf(what, n + 16, "cannot create %s", g_out.tmp_path);
        open_failed(o->output, what, e);
        free(what);
        free(g_out.tmp_path);
        g_out.tmp_path = NULL;
        return -1;
    }
    return 0;
}

// Completes the output: flush, close, rename into place. Returns an exit code.
static int out_commit(void) {
    if (g_out.is_stdout) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
            write_failed(errno);
            return EXIT_RUNTIME;
        }
        return EXIT_OK;
    }
    if (!g_out.f) return EXIT_OK;
    int bad = fflush(g_out.f) != 0 || ferror(g_out.f);
    int e = errno;
    if (fclose(g_out.f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    g_out.f = NULL;
    if (bad) {
        write_failed(e);
        out_discard();
        return EXIT_RUNTIME;
    }
    if (rename(g_out.tmp_path, g_out.path) != 0) {
        errorf(g_out.path, "cannot rename %s into place: %s", g_out.tmp_path, strerror(errno));
        out_discard();
        return EXIT_RUNTIME;
    }
    free(g_out.tmp_path);
    g_out.tmp_path = NULL;
    return EXIT_OK;
}

// Before waiting for input: stdout gets what was written so far (see input_line).
static int out_wait_flush(void) {
    if (!g_out.is_stdout || !g_out.f) return 0;
    if (fflush(stdout) != 0) {
        write_failed(errno);
        return -1;
    }
    return 0;
}

// After each batch: stdout gets the batch's records now (a reader may be waiting for them before
// it writes the next line); a file is written whole at the end anyway.
static int out_check(void) {
    if ((g_out.is_stdout && fflush(stdout) != 0) || ferror(g_out.f)) {
        write_failed(errno);
        return -1;
    }
    return 0;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Files

typedef struct {
    char *data;
    size_t n;
} cli_buf;

// Reads DIR/NAME whole. Returns 0 on success, 1 if absent and optional, -1 on error (reported).
static int read_small_file(const char *dir, const char *name, int required, cli_buf *out) {
    out->data = NULL;
    out->n = 0;
    char *path = path_join(dir, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT && !required) {
            free(path);
            return 1;
        }
        open_failed(path, "cannot open", e);
        free(path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errorf(path, "not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size > CLI_SMALL_FILE_MAX) {
        errorf(path, "file too large (%llu bytes)", (unsigned long long)st.st_size);
        goto fail;
    }
    size_t cap = (size_t)st.st_size;
    out->data = xmalloc(cap + 1);
    while (out->n < cap) {
        ssize_t r = read(fd, out->data + out->n, cap - out->n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            errorf(path, "read failed: %s", strerror(errno));
            goto fail;
        }
        if (r == 0) break;
        out->n += (size_t)r;
    }
    out->data[out->n] = 0;
    close(fd);
    free(path);
    return 0;
fail:
    free(out->data);
    out->data = NULL;
    close(fd);
    free(path);
    return -1;
}

static int parse_json_file(const char *dir, const char *name, const cli_buf *b, json_doc *doc) {
    int r = bert_json_parse(doc, b->data, b->n);
    if (r != 0) {
        char *path = path_join(dir, name);
        errorf(path, "%s", r == -2 ? "out of memory parsing JSON" : doc->error);
        free(path);
        return -1;
    }
    return 0;
}

// The sentence-transformers files named by modules.json. pooling_dir gets the Pooling module's
// folder (default "1_Pooling"); *has_normalize whether a Normalize module is listed.
typedef struct {
    char pooling_cfg[512]; // path of the Pooling config inside the folder, "" if none
    int has_modules;
    int has_normalize;
} cli_st_layout;

static int read_modules(const char *dir, const cli_buf *modules, cli_st_layout *lay) {
    memset(lay, 0, sizeof *lay);
    snprintf(lay->pooling_cfg, sizeof lay->pooling_cfg, "1_Pooling/config.json");
    if (!modules->data) return 0;
    lay->has_modules = 1;
    json_doc doc;
    if (parse_json_file(dir, "modules.json", modules, &doc)) return -1;
    int rc = 0;
    int found_pooling = 0;
    if (doc.root && doc.root->type == JSON_ARRAY) {
        for (const json_value *m = doc.root->child; m; m = m->next) {
            const json_value *type = bert_json_get(m, "type");
            const json_value *path = bert_json_get(m, "path");
            if (!type || type->type != JSON_STRING) continue;
            if (path && path->type == JSON_STRING) {
                if (strlen(path->str) != path->len || !name_is_safe(path->str)) {
                    char *p = path_join(dir, "modules.json");
                    errorf(p, "module path \"%s\" escapes the model folder", path->str);
                    free(p);
                    rc = -1;
                    break;
                }
            }
            const char *t = type->str;
            size_t tl = strlen(t);
            if (tl >= 7 && strcmp(t + tl - 7, "Pooling") == 0 && path && path->type == JSON_STRING &&
                !found_pooling) {
                found_pooling = 1;
                if (path->len == 0) snprintf(lay->pooling_cfg, sizeof lay->pooling_cfg, "config.json");
                else snprintf(lay->pooling_cfg, sizeof lay->pooling_cfg, "%s/config.json", path->str);
            }
            if (tl >= 9 && strcmp(t + tl - 9, "Normalize") == 0) lay->has_normalize = 1;
        }
    }
    if (lay->has_modules && !found_pooling) lay->pooling_cfg[0] = 0;
    bert_json_free(&doc);
    return rc;
}

// Reads 8 bytes + header of model.safetensors. On success *hdr holds the header JSON bytes
// (hdr->n = header length) and *file_size the file's size; fd stays open for more reading.
static int read_st_prefix(const char *path, int *fd_out, uint64_t *file_size, uint8_t len8[8],
                          uint64_t *hdr_len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        open_failed(path, "cannot open", errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        errorf(path, "not a regular file");
        close(fd);
        return -1;
    }
    *file_size = (uint64_t)st.st_size;
    size_t got = 0;
    while (got < 8) {
        ssize_t r = read(fd, len8 + got, 8 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            errorf(path, "BAD_MODEL: file too short for a safetensors header (%llu bytes)",
                   (unsigned long long)*file_size);
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | len8[i];
    if (n > *file_size - 8) {
        errorf(path, "BAD_MODEL: header length %llu exceeds the file size (%llu bytes)",
               (unsigned long long)n, (unsigned long long)*file_size);
        close(fd);
        return -1;
    }
    *hdr_len = n;
    *fd_out = fd;
    return 0;
}

// Reads exactly n bytes (or to EOF); returns bytes read, -1 on error (reported).
static ssize_t read_full(int fd, const char *path, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            errorf(path, "read failed: %s", strerror(errno));
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

// ---------------------------------------------------------------------------------------------
// Loading: small files into the loader, then model.safetensors in chunks.

// The one small-file failure the loader can judge only once the weights begin (a vocab.txt that
// did not parse, with no tokenizer.json) comes as "vocab.txt: ...": name that file, not the weights.
static void loader_error(bert_loader *ld, const char *path, bert_status st) {
    const char *msg = bert_loader_error(ld), *slash = strrchr(path, '/');
    const int dir_len = slash ? (int)(slash - path) + 1 : 0;
    if (!strcmp(path + dir_len, "model.safetensors") && !strncmp(msg, "vocab.txt:", 10))
        fprintf(stderr, "bertwasm: %.*svocab.txt: %s:%s\n", dir_len, path, bert_status_name(st), msg + 10);
    else errorf(path, "%s: %s", bert_status_name(st), msg);
}

static bert_load_params make_params(const cli_opts *o) {
    bert_load_params p = bert_load_default_params();
    if (o->has_dtype) {
        p.wtype = o->dtype;
        p.embd_type = o->dtype;
    }
    p.memory_budget = o->budget;
    if (o->max_tokens > 0) p.max_tokens = o->max_tokens;
    if (o->batch > 0) p.max_batch = o->batch;
    p.pooling = o->pooling;
    if (o->normalize >= 0) p.normalize = o->normalize;
    return p;
}

// Adds every small file present in the folder, in the order the loader wants.
static int add_small_files(bert_loader *ld, const char *dir) {
    cli_buf b;
    char *path;
    int r;
    bert_status st;
    // config.json first, required
    if (read_small_file(dir, "config.json", 1, &b)) return -1;
    st = bert_loader_add_file(ld, "config.json", b.data, b.n);
    free(b.data);
    if (st) {
        path = path_join(dir, "config.json");
        loader_error(ld, path, st);
        free(path);
        return -1;
    }
    // the vocabulary: tokenizer.json, else vocab.txt
    const char *tok_name = "tokenizer.json";
    r = read_small_file(dir, tok_name, 0, &b);
    if (r == 1) {
        tok_name = "vocab.txt";
        r = read_small_file(dir, tok_name, 0, &b);
        if (r == 1) {
            errorf(dir, "BAD_MODEL: no tokenizer.json or vocab.txt in the model folder");
            return -1;
        }
    }
    if (r < 0) return -1;
    st = bert_loader_add_file(ld, tok_name, b.data, b.n);
    free(b.data);
    if (st) {
        path = path_join(dir, tok_name);
        loader_error(ld, path, st);
        free(path);
        return -1;
    }
    // modules.json decides where the pooling config lives
    cli_buf modules;
    if (read_small_file(dir, "modules.json", 0, &modules) < 0) return -1;
    cli_st_layout lay;
    if (read_modules(dir, &modules, &lay)) {
        free(modules.data);
        return -1;
    }
    struct {
        const char *name; // as the loader knows it
        const char *file; // inside the folder
    } opt[] = {
        {"tokenizer_config.json", "tokenizer_config.json"},
        {"special_tokens_map.json", "special_tokens_map.json"},
        {"modules.json", NULL},
        {"1_Pooling/config.json", lay.pooling_cfg},
        {"sentence_bert_config.json", "sentence_bert_config.json"},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        const char *file = opt[i].file;
        if (i == 2) {
            b = modules;
            modules.data = NULL;
            if (!b.data) continue;
            file = "modules.json";
        } else {
            if (!file || !file[0]) continue;
            r = read_small_file(dir, file, 0, &b);
            if (r < 0) {
                free(modules.data);
                return -1;
            }
            if (r == 1) continue;
        }
        st = bert_loader_add_file(ld, opt[i].name, b.data, b.n);
        free(b.data);
        if (st) {
            path = path_join(dir, file);
            loader_error(ld, path, st);
            free(path);
            free(modules.data);
            return -1;
        }
    }
    free(modules.data);
    return 0;
}

static int load_model(const cli_opts *o, bert_model **out) {
    double t0 = now_ms();
    bert_load_params p = make_params(o);
    bert_loader *ld = NULL;
    bert_status st = bert_loader_init(&ld, &p);
    if (st) {
        errorf(o->model, "%s: cannot create the loader", bert_status_name(st));
        return -1;
    }
    int rc = -1;
    char *wpath = path_join(o->model, "model.safetensors");
    char *chunk = NULL;
    int fd = -1;
    if (add_small_files(ld, o->model)) goto done;

    fd = open(wpath, O_RDONLY);
    if (fd < 0) {
        open_failed(wpath, "cannot open", errno);
        goto done;
    }
    chunk = xmalloc(CLI_CHUNK);
    for (;;) {
        ssize_t r = read(fd, chunk, CLI_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            errorf(wpath, "read failed: %s", strerror(errno));
            goto done;
        }
        if (r == 0) break;
        st = bert_loader_write(ld, chunk, (size_t)r);
        if (st) {
            loader_error(ld, wpath, st);
            goto done;
        }
    }
    st = bert_loader_finish(ld, out);
    if (st) {
        loader_error(ld, wpath, st);
        goto done;
    }
    rc = 0;
    if (o->verbose) {
        bert_plan plan;
        char desc[512];
        if (bert_model_get_plan(*out, &plan) == BERT_STATUS_OK) {
            bert_plan_describe(&plan, desc, sizeof desc);
            fprintf(stderr, "bertwasm: plan: %s\n", desc);
        }
        fprintf(stderr, "bertwasm: loaded %s in %.1f ms\n", o->model, now_ms() - t0);
    }
done:
    if (fd >= 0) close(fd);
    free(chunk);
    free(wpath);
    bert_loader_free(ld);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// Input texts: positional arguments, else stdin lines (streamed, one line at a time).
//
// stdin is read in CLI_WINDOW chunks, and a line inside the window is used where it is. A line
// that crosses the window is collected in window-sized pieces, then copied into one buffer of its
// exact size (growing one buffer by realloc would leave a trail of freed smaller copies in wasm's
// never-shrinking memory: 2.2x the line was measured): about twice the line at the peak. Callers
// tokenize each line before asking for the next, so input memory is the window plus that, for the
// longest line, however large --batch is; a line over max_line stops the run before more of it
// is held.

typedef struct cli_piece {
    struct cli_piece *next;
    size_t n;
    char data[CLI_WINDOW];
} cli_piece;

typedef struct {
    char **texts; // positional texts, or NULL for stdin
    int n_texts;
    int next;
    char *win; // read window: bytes [pos, len) not used yet
    size_t pos, len;
    char *line; // the last line that crossed the window
    size_t max_line;
    const char *limit_what; // what max_line is, for the message
    uint64_t n_lines;       // lines returned so far
    int eof;
} cli_input;

// max_line: the longest line the tokenizer takes here (what is left of CLI_MAX_LINE next to the
// query for rerank); --max-line may lower it.
static void input_init(cli_input *in, const cli_opts *o, size_t max_line) {
    memset(in, 0, sizeof *in);
    in->texts = o->n_texts > 0 ? o->texts : NULL;
    in->n_texts = o->n_texts;
    in->max_line = max_line;
    in->limit_what = max_line < CLI_MAX_LINE ? "longest document the tokenizer takes next to this query"
                                             : "longest text the tokenizer takes";
    if (o->max_line > 0 && o->max_line < max_line) {
        in->max_line = (size_t)o->max_line;
        in->limit_what = "--max-line limit";
    }
}

static void input_free(cli_input *in) {
    free(in->win);
    free(in->line);
}

// Where a text came from, for messages: "argument" or "stdin".
static const char *input_name(const cli_input *in) { return in->texts ? "argument" : "stdin"; }

static void free_pieces(cli_piece *p) {
    while (p) {
        cli_piece *next = p->next;
        free(p);
        p = next;
    }
}

static int out_wait_flush(void);

static int line_too_long(const cli_input *in) {
    errorf("stdin", "line %llu: INVALID_ARGUMENT: longer than %zu bytes, the %s", (unsigned long long)in->n_lines + 1,
           in->max_line, in->limit_what);
    return -1;
}

// Next text into *text / *len (valid until the next call). Returns 1, 0 at the end, -1 on an
// error (reported).
static int input_line(cli_input *in, const char **text, size_t *len) {
    if (in->texts) {
        if (in->next >= in->n_texts) return 0;
        *text = in->texts[in->next++];
        *len = strlen(*text);
        in->n_lines++;
        return 1;
    }
    free(in->line);
    in->line = NULL;
    if (in->eof) return 0;
    if (!in->win) in->win = xmalloc(CLI_WINDOW);
    cli_piece *head = NULL, **tail = &head;
    size_t n = 0;                  // bytes in the pieces
    const char *last = NULL;       // the line's end, still in the window
    size_t n_last = 0;
    for (;;) {
        if (in->pos == in->len) {
            // About to wait for input: what was written so far goes out first (a client that sends
            // a line and waits for its record would otherwise wait forever).
            ssize_t r = -1;
            if (out_wait_flush() == 0) {
                do r = read(STDIN_FILENO, in->win, CLI_WINDOW);
                while (r < 0 && errno == EINTR);
                if (r < 0) errorf("stdin", "read failed: %s", strerror(errno));
            }
            if (r < 0) {
                free_pieces(head);
                return -1;
            }
            in->pos = 0;
            in->len = (size_t)r;
            if (r == 0) {
                in->eof = 1;
                if (!head) return 0; // (a final line without '\n' is still a line)
                break;
            }
        }
        char *b = in->win + in->pos, *nl = memchr(b, '\n', in->len - in->pos);
        size_t take = nl ? (size_t)(nl - b) : in->len - in->pos;
        if (take > in->max_line + 1 - n) { // + 1: the '\r' of a CRLF line is not part of the text
            free_pieces(head);
            return line_too_long(in);
        }
        if (nl) {
            *nl = 0;
            last = b;
            n_last = take;
            in->pos += take + 1;
            break;
        }
        cli_piece *pc = malloc(sizeof *pc);
        if (!pc) {
            free_pieces(head);
            errorf("stdin", "line %llu: out of memory after %zu bytes", (unsigned long long)in->n_lines + 1, n);
            return -1;
        }
        memcpy(pc->data, b, take);
        pc->n = take;
        pc->next = NULL;
        *tail = pc;
        tail = &pc->next;
        n += take;
        in->pos += take;
    }
    if (head) { // the line crossed the window: one buffer of its size
        in->line = malloc(n + n_last + 1);
        if (!in->line) {
            free_pieces(head);
            errorf("stdin", "line %llu: out of memory (%zu bytes)", (unsigned long long)in->n_lines + 1, n + n_last);
            return -1;
        }
        size_t k = 0;
        while (head) {
            cli_piece *next = head->next;
            memcpy(in->line + k, head->data, head->n);
            k += head->n;
            free(head);
            head = next;
        }
        if (n_last) memcpy(in->line + k, last, n_last);
        last = in->line;
        n_last += n;
        in->line[n_last] = 0;
    }
    if (n_last > 0 && last[n_last - 1] == '\r') n_last--;
    if (n_last > in->max_line) return line_too_long(in);
    *text = last;
    *len = n_last;
    in->n_lines++;
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Output writers

static void put_float(FILE *f, float v) {
    if (isfinite(v)) fprintf(f, "%.9g", (double)v);
    else fputs("null", f);
}

static void put_json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

static void put_cstr(FILE *f, const char *s) { put_json_string(f, s, strlen(s)); }

// npy v1.0 header of a fixed 128 bytes, so the row count can be patched in after streaming.
#define NPY_HEADER 128
static void npy_header(char hdr[NPY_HEADER], uint64_t rows, int64_t cols) {
    char dict[NPY_HEADER];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%llu, %lld), }",
                     (unsigned long long)rows, (long long)cols);
    memset(hdr, ' ', NPY_HEADER);
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    uint16_t hl = NPY_HEADER - 10;
    hdr[8] = (char)(hl & 0xff);
    hdr[9] = (char)(hl >> 8);
    memcpy(hdr + 10, dict, (size_t)n);
    hdr[NPY_HEADER - 1] = '\n';
}

static int write_f32s(FILE *f, const float *v, size_t n) {
    // wasm32 and the supported native hosts are little-endian: the floats go out as they are.
    return fwrite(v, sizeof(float), n, f) == n ? 0 : -1;
}

// ---------------------------------------------------------------------------------------------
// embed

// Up to max_batch lines, each tokenized as it is read (the batch holds token ids, not texts): alone,
// or after `query` as a pair. Returns the count (0 at the end of input), -1 on an error (reported).
// n_untrunc may be NULL; t_tok, if not NULL, gets the time spent tokenizing (not waiting for input).
static int read_batch(cli_input *in, const bert_model *m, const char *query, size_t nq, int32_t max_batch,
                      int32_t *ids, int32_t *type_ids, int32_t *seq_lens, int32_t *n_untrunc, double *t_tok) {
    const int32_t maxtok = bert_model_hparams(m)->max_tokens;
    size_t off = 0;
    int n = 0;
    while (n < max_batch) {
        const char *text;
        size_t len;
        const int r = input_line(in, &text, &len);
        if (r <= 0) return r < 0 ? -1 : n;
        const double t0 = t_tok ? now_ms() : 0;
        bert_encoding_info info;
        const bert_status st = query ? bert_tokenize_pair(m, query, nq, text, len, maxtok, ids + off, type_ids + off,
                                                          NULL, maxtok, &info)
                                     : bert_tokenize(m, text, len, maxtok, ids + off, type_ids + off, NULL, maxtok, &info);
        if (t_tok) *t_tok += now_ms() - t0;
        if (st) {
            errorf(input_name(in), "line %llu: %s: %s", (unsigned long long)in->n_lines, bert_status_name(st),
                   bert_model_error(m));
            return -1;
        }
        seq_lens[n] = info.n_tokens;
        if (n_untrunc) n_untrunc[n] = info.n_untruncated;
        off += (size_t)info.n_tokens;
        n++;
    }
    return n;
}

// --format npy to stdout: the row count is patched into the header at offset 0 at the end, which
// needs an empty regular file whose writes land where they are aimed: not a pipe, not a non-empty
// file, not append mode (">>" would put the patch at the end). Node's node:wasi reports every
// stdout as append mode, so rather than ask, write a byte at offset 0 twice: a file of two bytes
// means append mode. The file is emptied again either way, before any work.
static int npy_stdout_ok(void) {
    struct stat st;
    if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0 ||
        lseek(STDOUT_FILENO, 0, SEEK_CUR) != 0)
        return 0;
#ifndef __wasi__
    const int fl = fcntl(STDOUT_FILENO, F_GETFL);
    if (fl == -1 || (fl & O_APPEND)) return 0;
#endif
    int ok = write(STDOUT_FILENO, "\x93", 1) == 1 && lseek(STDOUT_FILENO, 0, SEEK_SET) == 0 &&
             write(STDOUT_FILENO, "\x93", 1) == 1 && fstat(STDOUT_FILENO, &st) == 0 && st.st_size == 1;
    if (ftruncate(STDOUT_FILENO, 0) != 0 || lseek(STDOUT_FILENO, 0, SEEK_SET) != 0) ok = 0;
    return ok;
}

static int cmd_embed(const cli_opts *o) {
    if (o->format == FMT_NPY && (!o->output || strcmp(o->output, "-") == 0) && !npy_stdout_ok())
        return fail_usage(o, "--format npy needs an empty, seekable output that is not appended to: use --output FILE");
    bert_model *m = NULL;
    if (out_open(o) || load_model(o, &m)) return EXIT_RUNTIME;
    const bert_hparams *hp = bert_model_hparams(m);
    int32_t maxtok = hp->max_tokens, maxb = hp->max_batch;
    int pooled = hp->pooling != BERT_POOLING_NONE;
    int32_t dim = pooled ? bert_model_dim(m) : hp->n_embd;
    size_t ntok_cap = (size_t)maxtok * (size_t)maxb;
    int32_t *ids = xmalloc(sizeof(int32_t) * ntok_cap);
    int32_t *type_ids = xmalloc(sizeof(int32_t) * ntok_cap);
    int32_t *seq_lens = xmalloc(sizeof(int32_t) * (size_t)maxb);
    int32_t *n_untrunc = xmalloc(sizeof(int32_t) * (size_t)maxb);
    size_t out_cap = (pooled ? (size_t)maxb : ntok_cap) * (size_t)dim;
    float *vec = xmalloc(sizeof(float) * out_cap);
    cli_input in;
    input_init(&in, o, CLI_MAX_LINE);
    int rc = EXIT_RUNTIME;
    uint64_t index = 0, rows = 0;
    double t_embed = 0;
    FILE *f = g_out.f;
    if (o->format == FMT_NPY) {
        char hdr[NPY_HEADER];
        npy_header(hdr, 0, dim);
        if (fwrite(hdr, 1, NPY_HEADER, f) != NPY_HEADER) goto io_fail;
    }
    for (;;) {
        const int n = read_batch(&in, m, NULL, 0, maxb, ids, type_ids, seq_lens, n_untrunc, o->verbose ? &t_embed : NULL);
        if (n < 0) goto done;
        if (n == 0) break;
        double t0 = o->verbose ? now_ms() : 0;
        bert_status st = bert_encode(m, ids, type_ids, seq_lens, n, vec, out_cap);
        if (st) {
            errorf(o->model, "%s: %s", bert_status_name(st), bert_model_error(m));
            goto done;
        }
        if (o->verbose) t_embed += now_ms() - t0;
        const float *v = vec;
        for (int i = 0; i < n; i++) {
            size_t nv = pooled ? (size_t)dim : (size_t)seq_lens[i] * (size_t)dim;
            if (o->format == FMT_JSONL) {
                fprintf(f, "{\"index\":%llu,\"n_tokens\":%d,\"truncated\":%s,\"embedding\":[",
                        (unsigned long long)index, seq_lens[i], n_untrunc[i] > seq_lens[i] ? "true" : "false");
                if (pooled) {
                    for (int32_t k = 0; k < dim; k++) {
                        if (k) fputc(',', f);
                        put_float(f, v[k]);
                    }
                } else {
                    for (int32_t t = 0; t < seq_lens[i]; t++) {
                        fputs(t ? ",[" : "[", f);
                        for (int32_t k = 0; k < dim; k++) {
                            if (k) fputc(',', f);
                            put_float(f, v[(size_t)t * dim + k]);
                        }
                        fputc(']', f);
                    }
                }
                fputs("]}\n", f);
            } else {
                if (write_f32s(f, v, nv)) goto io_fail;
            }
            rows += pooled ? 1 : (uint64_t)seq_lens[i];
            v += nv;
            index++;
        }
        if (out_check()) goto done;
    }
    if (o->format == FMT_NPY) {
        char hdr[NPY_HEADER];
        npy_header(hdr, rows, dim);
        if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0 || fwrite(hdr, 1, NPY_HEADER, f) != NPY_HEADER ||
            fflush(f) != 0)
            goto io_fail;
        if (ftell(f) != NPY_HEADER) { // the write did not land at offset 0 (checked up front; a guard)
            errorf(g_out.is_stdout ? "stdout" : g_out.tmp_path, "could not patch the npy header in place");
            goto done;
        }
        if (fseek(f, 0, SEEK_END) != 0) goto io_fail;
    }
    rc = out_commit();
    if (rc == EXIT_OK && o->verbose)
        fprintf(stderr, "bertwasm: embedded %llu texts in %.1f ms (%.1f texts/s)\n", (unsigned long long)index,
                t_embed, t_embed > 0 ? index / (t_embed / 1e3) : 0.0);
    goto done;
io_fail:
    write_failed(errno);
done:
    if (rc != EXIT_OK) out_discard();
    input_free(&in);
    free(ids);
    free(type_ids);
    free(seq_lens);
    free(n_untrunc);
    free(vec);
    bert_model_free(m);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// rerank

static int cmd_rerank(const cli_opts *o) {
    bert_model *m = NULL;
    if (out_open(o) || load_model(o, &m)) return EXIT_RUNTIME;
    const bert_hparams *hp = bert_model_hparams(m);
    if (hp->n_labels <= 0) {
        errorf(o->model, "UNSUPPORTED: not a cross-encoder (no classifier head); use embed");
        bert_model_free(m);
        return EXIT_RUNTIME;
    }
    int32_t maxtok = hp->max_tokens, maxb = hp->max_batch, nl = hp->n_labels;
    size_t ntok_cap = (size_t)maxtok * (size_t)maxb;
    int32_t *ids = xmalloc(sizeof(int32_t) * ntok_cap);
    int32_t *type_ids = xmalloc(sizeof(int32_t) * ntok_cap);
    int32_t *seq_lens = xmalloc(sizeof(int32_t) * (size_t)maxb);
    float *logits = xmalloc(sizeof(float) * (size_t)maxb * (size_t)nl);
    size_t nq = strlen(o->query);
    cli_input in;
    input_init(&in, o, nq < CLI_MAX_LINE ? CLI_MAX_LINE - nq : 0); // the pair's limit is shared
    int rc = EXIT_RUNTIME;
    uint64_t index = 0;
    FILE *f = g_out.f;
    for (;;) {
        const int n = read_batch(&in, m, o->query, nq, maxb, ids, type_ids, seq_lens, NULL, NULL);
        if (n < 0) goto done;
        if (n == 0) break;
        bert_status st = bert_classify(m, ids, type_ids, seq_lens, n, logits, (size_t)maxb * (size_t)nl);
        if (st) {
            errorf(o->model, "%s: %s", bert_status_name(st), bert_model_error(m));
            goto done;
        }
        for (int i = 0; i < n; i++) {
            const float *l = logits + (size_t)i * nl;
            fprintf(f, "{\"index\":%llu,", (unsigned long long)index++);
            if (nl == 1) {
                // sentence-transformers CrossEncoder: sigmoid for a single-label head
                fputs("\"score\":", f);
                put_float(f, (float)(1.0 / (1.0 + exp(-(double)l[0]))));
                fputs(",\"logit\":", f);
                put_float(f, l[0]);
            } else {
                fputs("\"logits\":[", f);
                for (int32_t k = 0; k < nl; k++) {
                    if (k) fputc(',', f);
                    put_float(f, l[k]);
                }
                fputc(']', f);
            }
            fputs("}\n", f);
        }
        if (out_check()) goto done;
    }
    rc = out_commit();
done:
    if (rc != EXIT_OK) out_discard();
    input_free(&in);
    free(ids);
    free(type_ids);
    free(seq_lens);
    free(logits);
    bert_model_free(m);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// tokenize: the tokenizer alone, without the weights.

typedef struct {
    int32_t max_seq;     // sentence_bert_config.json max_seq_length, 0 if absent
    int32_t max_pos;     // config.json max_position_embeddings, 0 if absent
    const char *source;  // "tokenizer.json" or "vocab.txt"
    int has_tok_config;
} cli_tok_info;

static int32_t json_i32_or(const json_value *obj, const char *key, int32_t def) {
    int32_t v;
    const json_value *x = bert_json_get(obj, key);
    if (x && bert_json_as_i32(x, &v) == 0) return v;
    return def;
}

static int load_tokenizer(const char *dir, bert_tokenizer **out, cli_tok_info *ti) {
    char err[BERT_ERROR_SIZE] = "";
    cli_buf b;
    json_doc doc;
    int r;
    memset(ti, 0, sizeof *ti);
    *out = NULL;
    // config.json: the position limit (optional here: a tokenizer-only folder tokenizes too)
    r = read_small_file(dir, "config.json", 0, &b);
    if (r < 0) return -1;
    struct stat st_dir;
    if (r == 1 && stat(dir, &st_dir) != 0) { // say the folder is missing, not its tokenizer
        open_failed(dir, "cannot open", errno);
        return -1;
    }
    if (r == 0) {
        if (parse_json_file(dir, "config.json", &b, &doc)) {
            free(b.data);
            return -1;
        }
        ti->max_pos = json_i32_or(doc.root, "max_position_embeddings", 0);
        bert_json_free(&doc);
        free(b.data);
    }

    bert_status st;
    ti->source = "tokenizer.json";
    r = read_small_file(dir, ti->source, 0, &b);
    if (r == 1) {
        ti->source = "vocab.txt";
        r = read_small_file(dir, ti->source, 0, &b);
        if (r == 1) {
            errorf(dir, "BAD_MODEL: no tokenizer.json or vocab.txt in the model folder");
            return -1;
        }
    }
    if (r < 0) return -1;
    if (strcmp(ti->source, "tokenizer.json") == 0) st = bert_tokenizer_from_json(out, b.data, b.n, err);
    else st = bert_tokenizer_from_vocab_txt(out, b.data, b.n, err);
    free(b.data);
    if (st) {
        char *p = path_join(dir, ti->source);
        errorf(p, "%s: %s", bert_status_name(st), err);
        free(p);
        return -1;
    }
    r = read_small_file(dir, "tokenizer_config.json", 0, &b);
    if (r < 0) goto fail;
    if (r == 0) {
        ti->has_tok_config = 1;
        st = bert_tokenizer_apply_config(*out, b.data, b.n, err);
        free(b.data);
        if (st) {
            char *p = path_join(dir, "tokenizer_config.json");
            errorf(p, "%s: %s", bert_status_name(st), err);
            free(p);
            goto fail;
        }
    }
    r = read_small_file(dir, "sentence_bert_config.json", 0, &b);
    if (r < 0) goto fail;
    if (r == 0) {
        if (parse_json_file(dir, "sentence_bert_config.json", &b, &doc)) {
            free(b.data);
            goto fail;
        }
        ti->max_seq = json_i32_or(doc.root, "max_seq_length", 0);
        bert_json_free(&doc);
        free(b.data);
    }
    return 0;
fail:
    bert_tokenizer_free(*out);
    *out = NULL;
    return -1;
}

// The effective maximum, as the loader computes it: --max-tokens, else sentence_bert_config's
// max_seq_length, else the tokenizer's declared maximum; capped by the position table.
static int32_t effective_max_tokens(const bert_tokenizer *t, const cli_tok_info *ti, int32_t explicit_max) {
    int32_t m = explicit_max > 0 ? explicit_max : ti->max_seq > 0 ? ti->max_seq : bert_tokenizer_max_length(t);
    if (ti->max_pos > 0 && (m <= 0 || m > ti->max_pos)) m = ti->max_pos;
    if (m <= 0) m = 512;
    return m;
}

// Each line is answered as soon as it is read: no batching (no forward pass to share), and the
// records go out whenever the input has to be waited for (see input_line), so an interactive
// client gets each line's record at once while a file is still written in large blocks.
static int cmd_tokenize(const cli_opts *o) {
    bert_tokenizer *t = NULL;
    cli_tok_info ti;
    if (out_open(o) || load_tokenizer(o->model, &t, &ti)) return EXIT_RUNTIME;
    int32_t maxtok = effective_max_tokens(t, &ti, o->max_tokens);
    int32_t *ids = xmalloc(sizeof(int32_t) * (size_t)maxtok);
    cli_input in;
    input_init(&in, o, CLI_MAX_LINE);
    int rc = EXIT_RUNTIME;
    uint64_t index = 0;
    char err[BERT_ERROR_SIZE];
    FILE *f = g_out.f;
    for (;;) {
        const char *text;
        size_t len;
        int r = input_line(&in, &text, &len);
        if (r < 0) goto done;
        if (r == 0) break;
        bert_encoding_info info;
        bert_status st = bert_tokenizer_encode(t, text, len, NULL, 0, maxtok, ids, NULL, NULL, maxtok, &info, err);
        if (st) {
            errorf(input_name(&in), "line %llu: %s: %s", (unsigned long long)in.n_lines, bert_status_name(st), err);
            goto done;
        }
        fprintf(f, "{\"index\":%llu,\"ids\":[", (unsigned long long)index++);
        for (int32_t k = 0; k < info.n_tokens; k++) fprintf(f, k ? ",%d" : "%d", ids[k]);
        fputs("],\"tokens\":[", f);
        for (int32_t k = 0; k < info.n_tokens; k++) {
            if (k) fputc(',', f);
            const char *s = bert_tokenizer_token(t, ids[k]);
            put_cstr(f, s ? s : "");
        }
        fprintf(f, "],\"n_tokens\":%d,\"n_untruncated\":%d}\n", info.n_tokens, info.n_untruncated);
        if (ferror(f)) {
            write_failed(errno);
            goto done;
        }
    }
    rc = out_commit();
done:
    if (rc != EXIT_OK) out_discard();
    input_free(&in);
    free(ids);
    bert_tokenizer_free(t);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// plan: the small files + the safetensors header, never the weight bytes.

static void put_kv_u64(FILE *f, const char *k, uint64_t v, int comma) {
    fprintf(f, "%s\"%s\":%llu", comma ? "," : "", k, (unsigned long long)v);
}

// A model.safetensors whose size is not the one its header describes fails to load (the loader says
// the same at the first missing or extra byte); plan and info find it from the size alone.
static int file_size_mismatch(const char *wpath, uint64_t want, uint64_t have) {
    if (have == want) return 0;
    errorf(wpath, "BAD_MODEL: %s: the header describes %llu bytes, the file has %llu",
           have < want ? "truncated" : "bytes past the end of the tensor data", (unsigned long long)want,
           (unsigned long long)have);
    return 1;
}

// Largest plan the build can allocate (the loader refuses larger ones the same way).
#define CLI_ADDR_LIMIT (sizeof(void *) == 4 ? BERT_PLAN_LIMIT_32BIT : (1ull << 40))

// Pushes the small files and the safetensors header (8 bytes, then the header; nothing more) into
// a fresh loader with the given budget (PLAN_ONLY: the header's length, see cmd_plan). Returns 0
// with *ld_out (caller frees) and the write status in *wst, or -1 (reported).
#define PLAN_ONLY UINT64_MAX
static int plan_from_header(const cli_opts *o, uint64_t budget, bert_loader **ld_out, bert_status *wst,
                            uint64_t *file_size, uint64_t *bytes_read) {
    int rc = -1, fd = -1;
    char *wpath = path_join(o->model, "model.safetensors");
    char *buf = NULL;
    uint64_t hdr_len = 0;
    uint8_t len8[8];
    bert_loader *ld = NULL;
    *bytes_read = 0;
    if (read_st_prefix(wpath, &fd, file_size, len8, &hdr_len)) {
        free(wpath);
        return -1;
    }
    bert_load_params p = make_params(o);
    p.memory_budget = budget == PLAN_ONLY ? (hdr_len > 0 ? hdr_len : 1) : budget;
    bert_status st = bert_loader_init(&ld, &p);
    if (st) {
        errorf(o->model, "%s: cannot create the loader", bert_status_name(st));
        ld = NULL;
        goto done;
    }
    if (add_small_files(ld, o->model)) goto done;
    *bytes_read = 8;
    *wst = bert_loader_write(ld, len8, 8);
    size_t cap = hdr_len < CLI_CHUNK ? (size_t)hdr_len : CLI_CHUNK;
    buf = xmalloc(cap);
    for (uint64_t left = hdr_len; left > 0 && *wst == BERT_STATUS_OK;) {
        size_t want = left < cap ? (size_t)left : cap;
        ssize_t r = read_full(fd, wpath, buf, want);
        if (r < 0) goto done;
        if ((size_t)r != want) {
            errorf(wpath, "BAD_MODEL: file ends inside the header");
            goto done;
        }
        *bytes_read += (uint64_t)r;
        left -= (uint64_t)r;
        *wst = bert_loader_write(ld, buf, want);
    }
    if (*wst != BERT_STATUS_OK && !(*wst == BERT_STATUS_BUDGET_EXCEEDED && bert_loader_has_plan(ld))) {
        loader_error(ld, wpath, *wst);
        goto done;
    }
    if (!bert_loader_has_plan(ld)) {
        errorf(wpath, "BAD_MODEL: no memory plan after the %llu-byte header", (unsigned long long)hdr_len);
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0) close(fd);
    free(buf);
    free(wpath);
    if (rc) bert_loader_free(ld);
    else *ld_out = ld;
    return rc;
}

static int cmd_plan(const cli_opts *o) {
    // Pass 1 with a budget of the header's own size (the loader refuses less before parsing it):
    // the loader computes the plan and stops before its one allocation, so planning a 1.3 GB model
    // costs a few KB of reading and no arena (any plan that does fit is at most that small).
    bert_loader *ld = NULL;
    bert_status wst = BERT_STATUS_OK;
    uint64_t file_size = 0, bytes_read = 0, bytes2 = 0;
    if (out_open(o) || plan_from_header(o, PLAN_ONLY, &ld, &wst, &file_size, &bytes_read)) return EXIT_RUNTIME;
    bert_plan plan;
    bert_loader_get_plan(ld, &plan);
    bert_loader_free(ld);
    ld = NULL;
    int fits = plan.total <= CLI_ADDR_LIMIT && (o->budget == 0 || plan.total <= o->budget);
    char *wpath = path_join(o->model, "model.safetensors");
    int rc = EXIT_RUNTIME;
    if (!fits && (o->budget == 0 || o->budget >= plan.header_size)) {
        // Pass 2 with the caller's budget, for the loader's own message (parts, what would fit).
        // (A budget below the header's size gets the short message below instead.)
        if (plan_from_header(o, o->budget, &ld, &wst, &file_size, &bytes2)) goto done;
    }
    FILE *f = g_out.f;
    char desc[512];
    bert_plan_describe(&plan, desc, sizeof desc);
    fputs("{\"model\":", f);
    put_cstr(f, o->model);
    fprintf(f, ",\"wtype\":\"%s\",\"embd_type\":\"%s\",\"max_tokens\":%d,\"max_batch\":%d", bert_type_name(plan.wtype),
            bert_type_name(plan.embd_type), plan.max_tokens, plan.max_batch);
    put_kv_u64(f, "weights", plan.weights, 1);
    put_kv_u64(f, "vocab", plan.vocab, 1);
    put_kv_u64(f, "activations", plan.activations, 1);
    put_kv_u64(f, "staging", plan.staging, 1);
    put_kv_u64(f, "total", plan.total, 1);
    // the file as it is, and the size its header describes: a truncated download still plans
    put_kv_u64(f, "file_size", file_size, 1);
    put_kv_u64(f, "expected_file_size", plan.file_size, 1);
    fprintf(f, ",\"file_size_ok\":%s", file_size == plan.file_size ? "true" : "false");
    put_kv_u64(f, "header_size", plan.header_size, 1);
    put_kv_u64(f, "bytes_read", bytes_read, 1);
    put_kv_u64(f, "budget", o->budget, 1);
    fprintf(f, ",\"fits_budget\":%s", o->budget == 0 || plan.total <= o->budget ? "true" : "false");
    fprintf(f, ",\"fits_wasm32\":%s", plan.total <= BERT_PLAN_LIMIT_32BIT ? "true" : "false");
    fputs(",\"description\":", f);
    put_cstr(f, desc);
    fputs("}\n", f);
    rc = out_commit();
    if (rc == EXIT_OK && file_size_mismatch(wpath, plan.file_size, file_size)) {
        rc = EXIT_RUNTIME; // the plan is printed, but this file cannot load
    } else if (rc == EXIT_OK && !fits) {
        // the plan is printed, but it does not fit: exit 1 with the reason
        if (ld && wst != BERT_STATUS_OK) loader_error(ld, wpath, wst);
        else {
            char a[24], b[24];
            errorf(wpath, "BUDGET_EXCEEDED: model needs %s, budget is %s", bert_format_bytes(plan.total, a, sizeof a),
                   bert_format_bytes(o->budget ? o->budget : CLI_ADDR_LIMIT, b, sizeof b));
        }
        rc = EXIT_RUNTIME;
    }
done:
    if (rc != EXIT_OK) out_discard();
    bert_loader_free(ld);
    free(wpath);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// info: config.json, the safetensors header's tensor directory, tokenizer settings.

static void put_json_value(FILE *f, const json_value *v) {
    switch (v->type) {
    case JSON_NULL: fputs("null", f); break;
    case JSON_FALSE: fputs("false", f); break;
    case JSON_TRUE: fputs("true", f); break;
    case JSON_NUMBER: {
        char nb[32];
        if (v->num == floor(v->num) && fabs(v->num) < 9e15) snprintf(nb, sizeof nb, "%.0f", v->num);
        else {
            snprintf(nb, sizeof nb, "%.15g", v->num); // shortest of 15/17 digits that round-trips
            if (strtod(nb, NULL) != v->num) snprintf(nb, sizeof nb, "%.17g", v->num);
        }
        fputs(nb, f);
        break;
    }
    case JSON_STRING: put_json_string(f, v->str, v->len); break;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        int obj = v->type == JSON_OBJECT;
        fputc(obj ? '{' : '[', f);
        for (const json_value *c = v->child; c; c = c->next) {
            if (c != v->child) fputc(',', f);
            if (obj) {
                put_json_string(f, c->key, c->key_len);
                fputc(':', f);
            }
            put_json_value(f, c);
        }
        fputc(obj ? '}' : ']', f);
        break;
    }
    }
}

static void put_member(FILE *f, const json_value *obj, const char *key, const char *as, int *first) {
    const json_value *v = bert_json_get(obj, key);
    if (!v) return;
    fprintf(f, "%s\"%s\":", *first ? "" : ",", as ? as : key);
    *first = 0;
    put_json_value(f, v);
}

static int cmd_info(const cli_opts *o) {
    int rc = EXIT_RUNTIME, fd = -1;
    cli_buf cfg = {0}, hdr = {0}, modules = {0}, pool = {0}, sbc = {0}, tcfg = {0};
    json_doc dcfg = {0}, dhdr = {0}, dpool = {0}, dsbc = {0}, dtcfg = {0};
    int have_cfg = 0, have_hdr = 0, have_pool = 0, have_sbc = 0, have_tcfg = 0;
    bert_tokenizer *tok = NULL;
    cli_tok_info ti;
    cli_st_layout lay;
    char *wpath = path_join(o->model, "model.safetensors");
    uint64_t file_size = 0, hdr_len = 0;
    uint8_t len8[8];

    if (out_open(o)) goto done;
    if (read_small_file(o->model, "config.json", 1, &cfg)) goto done;
    if (parse_json_file(o->model, "config.json", &cfg, &dcfg)) goto done;
    have_cfg = 1;
    if (read_st_prefix(wpath, &fd, &file_size, len8, &hdr_len)) goto done;
    if (hdr_len > 100u << 20) {
        errorf(wpath, "BAD_MODEL: header length %llu is over 100 MB", (unsigned long long)hdr_len);
        goto done;
    }
    hdr.data = xmalloc((size_t)hdr_len + 1);
    ssize_t r = read_full(fd, wpath, hdr.data, (size_t)hdr_len);
    if (r < 0) goto done;
    if ((uint64_t)r != hdr_len) {
        errorf(wpath, "BAD_MODEL: file ends inside the header");
        goto done;
    }
    hdr.n = (size_t)hdr_len;
    if (bert_json_parse(&dhdr, hdr.data, hdr.n)) {
        errorf(wpath, "BAD_MODEL: header: %s", dhdr.error);
        goto done;
    }
    have_hdr = 1;
    if (load_tokenizer(o->model, &tok, &ti)) goto done;
    if (read_small_file(o->model, "modules.json", 0, &modules) < 0) goto done;
    if (read_modules(o->model, &modules, &lay)) goto done;
    if (lay.pooling_cfg[0]) {
        int k = read_small_file(o->model, lay.pooling_cfg, 0, &pool);
        if (k < 0) goto done;
        if (k == 0) {
            if (parse_json_file(o->model, lay.pooling_cfg, &pool, &dpool)) goto done;
            have_pool = 1;
        }
    }
    int k = read_small_file(o->model, "sentence_bert_config.json", 0, &sbc);
    if (k < 0) goto done;
    if (k == 0) {
        if (parse_json_file(o->model, "sentence_bert_config.json", &sbc, &dsbc)) goto done;
        have_sbc = 1;
    }
    k = read_small_file(o->model, "tokenizer_config.json", 0, &tcfg);
    if (k < 0) goto done;
    if (k == 0) {
        if (parse_json_file(o->model, "tokenizer_config.json", &tcfg, &dtcfg)) goto done;
        have_tcfg = 1;
    }

    // tensor directory: count, dtypes, parameters
    struct {
        char name[16];
        uint64_t tensors, params;
    } dt[16];
    int n_dt = 0;
    uint64_t n_tensors = 0, n_params = 0, data_end = 0;
    for (const json_value *t = dhdr.root ? dhdr.root->child : NULL; t; t = t->next) {
        if (strcmp(t->key, "__metadata__") == 0) continue;
        const json_value *d = bert_json_get(t, "dtype"), *shape = bert_json_get(t, "shape"), *offs = bert_json_get(t, "data_offsets");
        uint64_t end;
        if (offs && offs->type == JSON_ARRAY && offs->child && offs->child->next && !bert_json_as_u64(offs->child->next, &end) &&
            end > data_end)
            data_end = end;
        if (!d || d->type != JSON_STRING || !shape || shape->type != JSON_ARRAY) continue;
        uint64_t ne = 1;
        for (const json_value *s = shape->child; s; s = s->next) {
            uint64_t x;
            if (bert_json_as_u64(s, &x) || bert_mul_u64(ne, x, &ne)) {
                ne = 0;
                break;
            }
        }
        n_tensors++;
        n_params += ne;
        int j = 0;
        while (j < n_dt && strcmp(dt[j].name, d->str) != 0) j++;
        if (j == n_dt && n_dt < 16) {
            snprintf(dt[j].name, sizeof dt[j].name, "%s", d->str);
            dt[j].tensors = dt[j].params = 0;
            n_dt++;
        }
        if (j < n_dt) {
            dt[j].tensors++;
            dt[j].params += ne;
        }
    }

    FILE *f = g_out.f;
    int first = 1;
    fputs("{\"model\":", f);
    put_cstr(f, o->model);
    fputs(",\"config\":{", f);
    static const char *cfg_keys[] = {"architectures", "model_type", "vocab_size", "hidden_size", "num_hidden_layers",
                                     "num_attention_heads", "intermediate_size", "max_position_embeddings",
                                     "type_vocab_size", "hidden_act", "layer_norm_eps", "num_labels", "id2label",
                                     "position_embedding_type", "torch_dtype"};
    for (size_t i = 0; i < sizeof cfg_keys / sizeof cfg_keys[0]; i++) put_member(f, dcfg.root, cfg_keys[i], NULL, &first);
    fputs("},\"weights\":{", f);
    put_kv_u64(f, "file_size", file_size, 0);
    // data_offsets come from the file: a sum past 2^64 saturates (no file is that long)
    uint64_t expected;
    if (bert_add_u64(8 + hdr_len, data_end, &expected)) expected = UINT64_MAX;
    put_kv_u64(f, "expected_file_size", expected, 1);
    fprintf(f, ",\"file_size_ok\":%s", file_size == expected ? "true" : "false");
    put_kv_u64(f, "header_size", 8 + hdr_len, 1);
    put_kv_u64(f, "tensors", n_tensors, 1);
    put_kv_u64(f, "parameters", n_params, 1);
    fputs(",\"dtypes\":{", f);
    for (int j = 0; j < n_dt; j++) {
        fprintf(f, "%s", j ? "," : "");
        put_cstr(f, dt[j].name);
        fprintf(f, ":{\"tensors\":%llu,\"parameters\":%llu}", (unsigned long long)dt[j].tensors,
                (unsigned long long)dt[j].params);
    }
    fputs("}},\"tokenizer\":{\"source\":", f);
    put_cstr(f, ti.source);
    fprintf(f, ",\"vocab_size\":%d,\"max_length\":%d,\"effective_max_tokens\":%d", bert_tokenizer_vocab_size(tok),
            bert_tokenizer_max_length(tok), effective_max_tokens(tok, &ti, 0));
    if (have_tcfg) {
        first = 0;
        static const char *tk[] = {"tokenizer_class", "do_lower_case", "strip_accents", "tokenize_chinese_chars",
                                   "model_max_length"};
        for (size_t i = 0; i < sizeof tk / sizeof tk[0]; i++) put_member(f, dtcfg.root, tk[i], NULL, &first);
    }
    fputs("},\"sentence_transformers\":{", f);
    first = 1;
    fprintf(f, "\"modules\":%s,\"normalize\":%s", lay.has_modules ? "true" : "false", lay.has_normalize ? "true" : "false");
    first = 0;
    if (have_sbc) put_member(f, dsbc.root, "max_seq_length", NULL, &first);
    if (have_pool) {
        const char *mode = NULL;
        static const struct {
            const char *key, *mode;
        } pm[] = {{"pooling_mode_cls_token", "cls"}, {"pooling_mode_mean_tokens", "mean"},
                  {"pooling_mode_max_tokens", "max"}, {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"},
                  {"pooling_mode_weightedmean_tokens", "weightedmean"}, {"pooling_mode_lasttoken", "lasttoken"}};
        for (size_t i = 0; i < sizeof pm / sizeof pm[0] && !mode; i++) {
            const json_value *v = bert_json_get(dpool.root, pm[i].key);
            if (v && v->type == JSON_TRUE) mode = pm[i].mode;
        }
        fputs(",\"pooling\":", f);
        if (mode) put_cstr(f, mode);
        else fputs("null", f);
    }
    fputs("}}\n", f);
    rc = out_commit();
    if (rc == EXIT_OK && file_size_mismatch(wpath, expected, file_size))
        rc = EXIT_RUNTIME; // printed, but this file cannot load
done:
    if (rc != EXIT_OK) out_discard();
    if (fd >= 0) close(fd);
    if (have_cfg) bert_json_free(&dcfg);
    if (have_hdr) bert_json_free(&dhdr);
    if (have_pool) bert_json_free(&dpool);
    if (have_sbc) bert_json_free(&dsbc);
    if (have_tcfg) bert_json_free(&dtcfg);
    free(cfg.data);
    free(hdr.data);
    free(modules.data);
    free(pool.data);
    free(sbc.data);
    free(tcfg.data);
    bert_tokenizer_free(tok);
    free(wpath);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// Arguments

static const char *HELP_MAIN =
    "bertwasm " BERT_VERSION " - BERT-family sentence embeddings and reranking, streamed under a memory budget\n"
    "\n"
    "usage: bertwasm <command> --model DIR [options] [TEXT...]\n"
    "\n"
    "commands:\n"
    "  embed     sentence embeddings (texts as arguments, or one per line on stdin)\n"
    "  tokenize  token ids, tokens and untruncated counts per line (JSONL)\n"
    "  rerank    cross-encoder scores of documents against --query\n"
    "  plan      the memory plan, from the safetensors header alone (JSON)\n"
    "  info      architecture, weight dtypes, tokenizer settings (JSON)\n"
    "\n"
    "  bertwasm <command> --help   options of a command (also: bertwasm help <command>)\n"
    "  bertwasm --version\n"
    "\n"
    "DIR is a Hugging Face model folder: config.json, model.safetensors, tokenizer.json or vocab.txt,\n"
    "and optionally tokenizer_config.json, special_tokens_map.json, modules.json, 1_Pooling/,\n"
    "sentence_bert_config.json.\n"
    "Exit status: 0 success, 1 runtime error (model, budget, I/O), 2 usage error, 141 stdout closed early.\n";

static const char *HELP_LOAD =
    "  --model DIR          model folder (required)\n"
    "  --dtype T            weight storage: q8 (default), q4, f16, f32\n"
    "  --budget SIZE        memory budget for the whole plan, e.g. 256MiB, 1.5GiB, 300MB (default: none)\n"
    "  --max-tokens N       tokens per text incl. [CLS]/[SEP], 2..1048576 (default and cap: the model's)\n"
    "  --batch N            texts per forward pass, 1..65536 (default 8)\n";

static const char *HELP_LINE =
    "  --max-line SIZE      longest stdin line accepted, e.g. 1MiB (default and maximum: 256 MiB - 1 byte);\n"
    "                       one line is held at a time, in about twice its size\n";

static void print_help(int cmd) {
    switch (cmd) {
    case CMD_EMBED:
        printf("usage: bertwasm embed --model DIR [options] [TEXT...]\n\n"
               "Embeds each TEXT, or each line of stdin (streamed in batches of --batch lines), and writes\n"
               "one record per input in input order.\n\noptions:\n%s"
               "  --pooling P          mean, cls, max or none (per-token vectors); default from 1_Pooling\n"
               "  --no-normalize       do not L2-normalize the vectors\n"
               "  --format F           jsonl (default): {\"index\",\"n_tokens\",\"truncated\",\"embedding\"};\n"
               "                       f32: raw little-endian float32 rows; npy: a (rows, dim) float32 .npy\n"
               "%s"
               "  --output FILE        write to FILE (atomically: FILE.tmp-ID then rename); default stdout\n"
               "  -v, --verbose        plan, load time and throughput on stderr\n",
               HELP_LOAD, HELP_LINE);
        break;
    case CMD_TOKENIZE:
        printf("usage: bertwasm tokenize --model DIR [options] [TEXT...]\n\n"
               "Tokenizes each TEXT or stdin line (no weights are read). JSONL records:\n"
               "{\"index\",\"ids\",\"tokens\",\"n_tokens\",\"n_untruncated\"}. Each line's record is written\n"
               "as soon as the line is read (flushed before more input is waited for).\n\noptions:\n"
               "  --model DIR          model folder (required)\n"
               "  --max-tokens N       truncate to N tokens incl. [CLS]/[SEP], 2..1048576 (default: the model's)\n"
               "  --batch N            accepted as for embed (1..65536); every line is answered at once anyway\n"
               "%s"
               "  --output FILE        write to FILE instead of stdout\n",
               HELP_LINE);
        break;
    case CMD_RERANK:
        printf("usage: bertwasm rerank --model DIR --query TEXT [options] [DOC...]\n\n"
               "Scores each DOC, or each line of stdin, against the query with a cross-encoder.\n"
               "JSONL records {\"index\",\"score\",\"logit\"}: score = sigmoid(logit) for a one-label model\n"
               "(as sentence-transformers' CrossEncoder); {\"index\",\"logits\"} otherwise.\n\noptions:\n%s"
               "  --query TEXT         the query (required); --max-tokens must then be at least 3\n"
               "%s"
               "  --output FILE        write to FILE instead of stdout\n"
               "  -v, --verbose        plan and load time on stderr\n",
               HELP_LOAD, HELP_LINE);
        break;
    case CMD_PLAN:
        printf("usage: bertwasm plan --model DIR [options]\n\n"
               "Prints the memory plan as JSON. Reads the small files and the safetensors header only\n"
               "(8 bytes, then the header), never the weights. Exit status 1 when the plan exceeds --budget\n"
               "(the plan is still printed, with \"fits_budget\": false) or when model.safetensors is not\n"
               "the size its header describes (a truncated download).\n\noptions:\n%s"
               "  --output FILE        write to FILE instead of stdout\n",
               HELP_LOAD);
        break;
    case CMD_INFO:
        printf("usage: bertwasm info --model DIR\n\n"
               "Prints architecture (config.json), the weight file's dtypes and parameter counts (from its\n"
               "header), tokenizer and sentence-transformers settings as JSON.\n\noptions:\n"
               "  --model DIR          model folder (required)\n"
               "  --output FILE        write to FILE instead of stdout\n");
        break;
    default: fputs(HELP_MAIN, stdout);
    }
}

#define ALL_LOAD (CMD_EMBED | CMD_RERANK | CMD_PLAN)
static const struct {
    const char *name;
    int has_value;
    int cmds;
} OPTIONS[] = {
    {"--model", 1, CMD_EMBED | CMD_TOKENIZE | CMD_RERANK | CMD_PLAN | CMD_INFO},
    {"--dtype", 1, ALL_LOAD},
    {"--budget", 1, ALL_LOAD},
    {"--max-tokens", 1, ALL_LOAD | CMD_TOKENIZE},
    {"--batch", 1, ALL_LOAD | CMD_TOKENIZE},
    {"--max-line", 1, CMD_EMBED | CMD_TOKENIZE | CMD_RERANK},
    {"--pooling", 1, CMD_EMBED},
    {"--no-normalize", 0, CMD_EMBED},
    {"--format", 1, CMD_EMBED},
    {"--output", 1, CMD_EMBED | CMD_TOKENIZE | CMD_RERANK | CMD_PLAN | CMD_INFO},
    {"--query", 1, CMD_RERANK},
    {"--verbose", 0, CMD_EMBED | CMD_RERANK},
};

// "256MiB", "1.5GiB", "300MB", "4096", "2G" (single letters are binary). 0 on success.
// A size: decimal digits with an optional fraction, then an optional unit; read exactly, in
// integers (a double would turn 9223372036854775807 into ...808), rounded down to whole bytes;
// from 1 byte (no budget at all is the default, not "0") to UINT64_MAX. Hex, exponents and signs
// are refused.
static int parse_size(const char *s, uint64_t *out) {
    static const struct {
        const char *name;
        int pow2, pow10; // the unit is 2^pow2 * 10^pow10 bytes
    } units[] = {{"", 0, 0},    {"B", 0, 0},    {"K", 10, 0},  {"k", 10, 0},  {"KiB", 10, 0}, {"M", 20, 0},
                 {"m", 20, 0},  {"MiB", 20, 0}, {"G", 30, 0},  {"g", 30, 0},  {"GiB", 30, 0}, {"T", 40, 0},
                 {"TiB", 40, 0}, {"KB", 0, 3},  {"kB", 0, 3},  {"MB", 0, 6},  {"GB", 0, 9},   {"TB", 0, 12}};
    const char *p = s, *frac = p;
    uint64_t v = 0, mul = 1, f = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == s) return -1;
    size_t nfrac = 0;
    if (*p == '.') {
        frac = ++p;
        while (*p >= '0' && *p <= '9') p++;
        nfrac = (size_t)(p - frac);
        if (nfrac == 0 || nfrac > 64) return -1; // (64 digits are more than any unit can use)
    }
    size_t u = 0;
    while (u < sizeof units / sizeof units[0] && strcmp(p, units[u].name) != 0) u++;
    if (u == sizeof units / sizeof units[0]) return -1;
    for (int i = 0; i < units[u].pow10; i++) mul *= 10;
    mul <<= units[u].pow2;
    if (v > UINT64_MAX / mul) return -1;
    v *= mul;
    // the fraction's bytes, rounded down: a decimal unit moves the point; a binary one doubles
    // the fraction's digits pow2 times, each carry out of them being the next bit
    if (units[u].pow10) {
        for (int i = 0; i < units[u].pow10; i++) f = f * 10 + ((size_t)i < nfrac ? (uint64_t)(frac[i] - '0') : 0);
    } else if (nfrac) {
        unsigned char d[64];
        for (size_t i = 0; i < nfrac; i++) d[i] = (unsigned char)(frac[i] - '0');
        for (int b = 0; b < units[u].pow2; b++) {
            int carry = 0;
            for (size_t i = nfrac; i-- > 0;) {
                int x = d[i] * 2 + carry;
                d[i] = (unsigned char)(x % 10);
                carry = x / 10;
            }
            f = f << 1 | (uint64_t)carry;
        }
    }
    if (v > UINT64_MAX - f || v + f < 1) return -1;
    *out = v + f;
    return 0;
}

// A decimal integer in [lo, hi], digits only (no sign, no spaces). 0 on success.
static int parse_int(const char *s, int32_t lo, int32_t hi, int32_t *out) {
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > hi) return -1;
    }
    if (p == s || *p || v < lo) return -1;
    *out = (int32_t)v;
    return 0;
}

static int apply_option(cli_opts *o, const char *name, const char *val) {
    if (!strcmp(name, "--model")) o->model = val;
    else if (!strcmp(name, "--dtype")) {
        o->has_dtype = 1;
        if (!strcmp(val, "q8") || !strcmp(val, "q8_0")) o->dtype = BERT_TYPE_Q8_0;
        else if (!strcmp(val, "q4") || !strcmp(val, "q4_0")) o->dtype = BERT_TYPE_Q4_0;
        else if (!strcmp(val, "f16")) o->dtype = BERT_TYPE_F16;
        else if (!strcmp(val, "f32")) o->dtype = BERT_TYPE_F32;
        else return fail_usage(o, "--dtype must be q8, q4, f16 or f32, not '%s'", val);
    } else if (!strcmp(name, "--budget")) {
        if (parse_size(val, &o->budget))
            return fail_usage(o, "--budget: cannot read size '%s' (e.g. 256MiB; from 1 byte to 2^64 - 1, omit it for no "
                                 "budget)", val);
    } else if (!strcmp(name, "--max-line")) {
        if (parse_size(val, &o->max_line) || o->max_line > CLI_MAX_LINE)
            return fail_usage(o, "--max-line: cannot read size '%s' (e.g. 1MiB; from 1 byte to %d)", val, CLI_MAX_LINE);
    } else if (!strcmp(name, "--max-tokens")) {
        // 2 is [CLS] [SEP] alone, the loader's minimum (rerank needs 3: see main)
        if (parse_int(val, 2, CLI_MAX_TOKENS, &o->max_tokens))
            return fail_usage(o, "--max-tokens must be an integer from 2 to %d, not '%s'", CLI_MAX_TOKENS, val);
    } else if (!strcmp(name, "--batch")) {
        if (parse_int(val, 1, CLI_MAX_BATCH, &o->batch))
            return fail_usage(o, "--batch must be an integer from 1 to %d, not '%s'", CLI_MAX_BATCH, val);
    } else if (!strcmp(name, "--pooling")) {
        if (!strcmp(val, "mean")) o->pooling = BERT_POOLING_MEAN;
        else if (!strcmp(val, "cls")) o->pooling = BERT_POOLING_CLS;
        else if (!strcmp(val, "max")) o->pooling = BERT_POOLING_MAX;
        else if (!strcmp(val, "none")) o->pooling = BERT_POOLING_NONE;
        else return fail_usage(o, "--pooling must be mean, cls, max or none, not '%s'", val);
    } else if (!strcmp(name, "--no-normalize")) o->normalize = 0;
    else if (!strcmp(name, "--format")) {
        if (!strcmp(val, "jsonl")) o->format = FMT_JSONL;
        else if (!strcmp(val, "f32")) o->format = FMT_F32;
        else if (!strcmp(val, "npy")) o->format = FMT_NPY;
        else return fail_usage(o, "--format must be jsonl, f32 or npy, not '%s'", val);
    } else if (!strcmp(name, "--output")) o->output = val;
    else if (!strcmp(name, "--query")) o->query = val;
    else if (!strcmp(name, "--verbose")) o->verbose = 1;
    return 0;
}

// --output is checked before any work: the result is renamed onto that path at the end, which
// cannot work for an empty name or a folder, and would replace a device or a pipe.
static int check_output(const cli_opts *o) {
    const char *p = o->output;
    struct stat st;
    if (!p || !strcmp(p, "-")) return 0;
    if (!*p) return fail_usage(o, "--output needs a file name ('-' for stdout)");
    const int exists = stat(p, &st) == 0;
    if (p[strlen(p) - 1] == '/' || (exists && S_ISDIR(st.st_mode)))
        return fail_usage(o, "--output '%s' is a directory: name a file in it", p);
    if (exists && !S_ISREG(st.st_mode))
        return fail_usage(o, "--output '%s' is not a regular file (for a device or pipe, use '>' instead)", p);
    return 0;
}

int main(int argc, char **argv) {
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.pooling = BERT_POOLING_DEFAULT;
    o.normalize = -1;
    if (argc < 2) {
        fputs(HELP_MAIN, stderr);
        return EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int cmd;
    } CMDS[] = {{"embed", CMD_EMBED}, {"tokenize", CMD_TOKENIZE}, {"rerank", CMD_RERANK}, {"plan", CMD_PLAN},
                {"info", CMD_INFO}};
    const char *c = argv[1];
    const int help = !strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help");
    if (help && argc > 2) c = argv[2]; // "bertwasm help embed"
    for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++)
        if (!strcmp(c, CMDS[i].name)) {
            o.cmd = CMDS[i].cmd;
            o.cmd_name = CMDS[i].name;
        }
    if (help) {
        if (argc > 2 && !o.cmd) return fail_usage(NULL, "unknown command '%s'", c);
        print_help(o.cmd);
        return EXIT_OK;
    }
    if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
        printf("bertwasm %s\n", BERT_VERSION);
        return EXIT_OK;
    }
    if (!o.cmd) return fail_usage(NULL, "unknown command '%s'", c);

    o.texts = xmalloc(sizeof(char *) * (size_t)argc);
    int only_positional = 0, rc;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == 0) {
            o.texts[o.n_texts++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_positional = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help(o.cmd);
            free(o.texts);
            return EXIT_OK;
        }
        if (!strcmp(a, "-v")) a = "--verbose";
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        int found = -1;
        for (size_t k = 0; k < sizeof OPTIONS / sizeof OPTIONS[0]; k++)
            if (strlen(OPTIONS[k].name) == nl && !strncmp(OPTIONS[k].name, a, nl)) found = (int)k;
        if (found < 0 || !(OPTIONS[found].cmds & o.cmd)) {
            rc = fail_usage(&o, "unknown option '%.*s'", (int)nl, a);
            free(o.texts);
            return rc;
        }
        const char *val = NULL;
        if (OPTIONS[found].has_value) {
            if (eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else {
                rc = fail_usage(&o, "option '%s' needs a value", OPTIONS[found].name);
                free(o.texts);
                return rc;
            }
        } else if (eq) {
            rc = fail_usage(&o, "option '%s' takes no value", OPTIONS[found].name);
            free(o.texts);
            return rc;
        }
        if ((rc = apply_option(&o, OPTIONS[found].name, val)) != 0) {
            free(o.texts);
            return rc;
        }
    }
    rc = EXIT_OK;
    if (!o.model) rc = fail_usage(&o, "--model DIR is required");
    else if (o.cmd == CMD_RERANK && !o.query) rc = fail_usage(&o, "--query TEXT is required");
    else if ((o.cmd == CMD_PLAN || o.cmd == CMD_INFO) && o.n_texts > 0)
        rc = fail_usage(&o, "unexpected argument '%s'", o.texts[0]);
    else if (o.cmd == CMD_RERANK && o.max_tokens > 0 && o.max_tokens < 3)
        rc = fail_usage(&o, "--max-tokens must be at least 3 for rerank ([CLS] query [SEP] document [SEP])");
    else rc = check_output(&o);
    if (rc) {
        free(o.texts);
        return rc;
    }
    switch (o.cmd) {
    case CMD_EMBED: rc = cmd_embed(&o); break;
    case CMD_TOKENIZE: rc = cmd_tokenize(&o); break;
    case CMD_RERANK: rc = cmd_rerank(&o); break;
    case CMD_PLAN: rc = cmd_plan(&o); break;
    default: rc = cmd_info(&o); break;
    }
    out_discard(); // no-op after a commit
    free(o.texts);
    return g_out.broken_pipe ? EXIT_PIPE : rc;
}
