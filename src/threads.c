// threads.c - persistent worker pool (pthreads) or serial fallback.
#include "threads.h"

#include <stdlib.h>

#ifdef BERT_THREADS
#include <pthread.h>
#include <stdatomic.h>

// A process forked from one that has a pool has none of its worker threads: there the pool runs
// every job on the calling thread and is freed without a join (a server that loads a model and then
// forks workers keeps working instead of waiting forever). wasm has no fork.
#if (defined(__unix__) || defined(__APPLE__)) && !defined(__EMSCRIPTEN__) && !defined(__wasi__)
#define POOL_CAN_FORK 1
#include <unistd.h>
#define POOL_FORKED(p) ((p)->pid != getpid())
#else
#define POOL_FORKED(p) 0
#endif

// A forward pass calls bert_parallel_for ~10 times per layer, so waking a sleeping thread per
// call (a futex round trip: tens to hundreds of microseconds, more under Node's Atomics.wait)
// would cost a batch-1 query more than its compute. Both sides therefore spin on the atomics for
// a while before they sleep on the condition variables: back-to-back calls of one pass never
// sleep, an idle pool sleeps after ~SPIN_ITERS loads.
#define SPIN_ITERS 200000

struct bert_threadpool {
    int32_t n;              // threads including the caller
    pthread_t *tid;         // n - 1 workers
    pthread_mutex_t mu;
    pthread_cond_t work_cv; // workers sleep here for a new generation
    pthread_cond_t done_cv; // the caller sleeps here for pending == 0
    _Atomic uint32_t generation; // bumped (release) after the job fields are written
    _Atomic int32_t pending;     // workers still running the current job
    _Atomic int stop;
    _Atomic int32_t next_item;   // the first item of the current job not yet taken
    // the current job
    int32_t job_n;
    bert_task_fn job_fn;
    void *job_ctx;
#ifdef POOL_CAN_FORK
    pid_t pid; // the process whose threads these are
#endif
};

// Threads take the job's items in shrinking chunks from a shared counter (guided scheduling):
// each claim is 1/(2 n) of what is left, at least one item. A fixed split per thread would leave
// the faster thread waiting whenever one core of a busy or virtualized machine runs slower; equal
// chunks (4 per thread until session 6) left one thread idle for up to a whole chunk at the end of
// every call - at batch 1, where a forward pass is ~60 short calls, both threads spent 15-17% of a
// query waiting (node --cpu-prof). The last claims here are single items.
static void run_slice(bert_threadpool *p, int32_t thread) {
    const int32_t n = p->job_n, div = 2 * p->n;
    int32_t cur = atomic_load_explicit(&p->next_item, memory_order_relaxed);
    while (cur < n) {
        int32_t take = (n - cur) / div;
        if (take < 1) take = 1;
        if (!atomic_compare_exchange_weak_explicit(&p->next_item, &cur, cur + take, memory_order_relaxed,
                                                   memory_order_relaxed))
            continue; // cur now holds the counter's current value
        p->job_fn(p->job_ctx, cur, cur + take, thread);
        cur = atomic_load_explicit(&p->next_item, memory_order_relaxed);
    }
}

typedef struct {
    bert_threadpool *p;
    int32_t thread;
} worker_arg;

static void *worker_main(void *arg) {
    bert_threadpool *p = ((worker_arg *)arg)->p;
    const int32_t thread = ((worker_arg *)arg)->thread;
    free(arg);
    uint32_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ITERS && atomic_load_explicit(&p->generation, memory_order_acquire) == seen &&
                        !atomic_load_explicit(&p->stop, memory_order_relaxed);
             i++) {
        }
        if (atomic_load_explicit(&p->generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&p->mu);
            while (!atomic_load(&p->stop) && atomic_load(&p->generation) == seen) pthread_cond_wait(&p->work_cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        run_slice(p, thread);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu); // the caller may be asleep on done_cv
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

bert_status bert_threadpool_init(bert_threadpool **out, int32_t n_threads) {
    *out = NULL;
    if (n_threads <= 1) return BERT_STATUS_OK;
    if (n_threads > BERT_MAX_THREADS) n_threads = BERT_MAX_THREADS;
    bert_threadpool *p = calloc(1, sizeof *p);
    if (!p) return BERT_STATUS_OUT_OF_MEMORY;
    p->tid = calloc((size_t)n_threads - 1, sizeof *p->tid);
    if (!p->tid) {
        free(p);
        return BERT_STATUS_OUT_OF_MEMORY;
    }
#ifdef POOL_CAN_FORK
    p->pid = getpid();
#endif
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->n = 1;
    for (int32_t i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) break;
        a->p = p;
        a->thread = i;
        if (pthread_create(&p->tid[i - 1], NULL, worker_main, a) != 0) {
            free(a);
            break;
        }
        p->n++; // fewer threads than asked if the system refuses: still correct
    }
    if (p->n == 1) {
        bert_threadpool_free(p);
        return BERT_STATUS_OK; // serial
    }
    *out = p;
    return BERT_STATUS_OK;
}

void bert_threadpool_free(bert_threadpool *p) {
    if (!p) return;
    if (POOL_FORKED(p)) { // no threads to stop; the mutex may even be held by a parent's thread
        free(p->tid);
        free(p);
        return;
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int32_t i = 0; i < p->n - 1; i++) pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p);
}

int32_t bert_threadpool_size(const bert_threadpool *p) { return p ? p->n : 1; }

void bert_parallel_for(bert_threadpool *p, int32_t n, bert_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (!p || n == 1 || POOL_FORKED(p)) {
        fn(ctx, 0, n, 0);
        return;
    }
    // every worker has finished the previous job (pending was 0), so nobody reads these now
    p->job_n = n;
    p->job_fn = fn;
    p->job_ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_store_explicit(&p->next_item, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mu); // a worker past its spin checks generation under the mutex
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    run_slice(p, 0);
    for (int i = 0; i < SPIN_ITERS && atomic_load_explicit(&p->pending, memory_order_acquire) > 0; i++) {
    }
    if (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

#else // serial build

bert_status bert_threadpool_init(bert_threadpool **out, int32_t n_threads) {
    (void)n_threads;
    *out = NULL;
    return BERT_STATUS_OK;
}
void bert_threadpool_free(bert_threadpool *p) { (void)p; }
int32_t bert_threadpool_size(const bert_threadpool *p) {
    (void)p;
    return 1;
}
void bert_parallel_for(bert_threadpool *p, int32_t n, bert_task_fn fn, void *ctx) {
    (void)p;
    if (n > 0) fn(ctx, 0, n, 0);
}

#endif
