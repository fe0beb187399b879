// threads.h - a persistent worker pool for the forward pass (internal). With BERT_THREADS defined
// (native builds, the Emscripten pthreads variant) it runs on pthreads; otherwise (WASI, the
// single-thread web build) every call is a plain serial loop and no pool exists.
#ifndef BERT_THREADS_H
#define BERT_THREADS_H

#include <stdint.h>

#include "bert.h"

typedef struct bert_threadpool bert_threadpool;

// fn runs the tasks [begin, end) on the thread numbered `thread` (0 = the caller); per-thread
// scratch is indexed by it.
typedef void (*bert_task_fn)(void *ctx, int32_t begin, int32_t end, int32_t thread);

// n_threads counts the caller: n_threads - 1 workers are started. n_threads <= 1, or a build
// without BERT_THREADS, gives *out = NULL (serial) and BERT_STATUS_OK.
bert_status bert_threadpool_init(bert_threadpool **out, int32_t n_threads);
void bert_threadpool_free(bert_threadpool *p);
// Threads available, including the caller (1 for NULL).
int32_t bert_threadpool_size(const bert_threadpool *p);

// Splits [0, n) into contiguous chunks (4 per thread) that the threads take in turn, and returns
// when all are done.
// Not reentrant: one bert_parallel_for per pool at a time (one model, one caller).
void bert_parallel_for(bert_threadpool *p, int32_t n, bert_task_fn fn, void *ctx);

#endif
