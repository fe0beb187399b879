// test_threads.c - the worker pool: every index of every bert_parallel_for runs exactly once, on a
// thread number below the pool size, for many sizes (fewer tasks than threads included); a pool of
// 1 is serial (NULL). Built with BERT_THREADS natively; serial builds check the fallback.
#include <stdio.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "threads.h"

typedef struct {
    int hits[1024];
    int bad_thread;
    int n_threads;
} job;

static void task(void *ctx, int32_t begin, int32_t end, int32_t thread) {
    job *j = ctx;
    if (thread < 0 || thread >= j->n_threads) __atomic_fetch_add(&j->bad_thread, 1, __ATOMIC_RELAXED);
    for (int32_t i = begin; i < end; i++) __atomic_fetch_add(&j->hits[i], 1, __ATOMIC_RELAXED);
}

int main(void) {
    int failures = 0;
    const int sizes[4] = {1, 2, 3, 8};
    for (int s = 0; s < 4; s++) {
        bert_threadpool *p = NULL;
        if (bert_threadpool_init(&p, sizes[s]) != BERT_STATUS_OK) {
            printf("FAIL: init %d\n", sizes[s]);
            return 1;
        }
        static job j;
        int wrong = 0;
        for (int r = 0; r < 3000; r++) {
            const int n = r % 1024; // 0 .. 1023 tasks, often fewer than threads
            memset(&j, 0, sizeof j);
            j.n_threads = bert_threadpool_size(p);
            bert_parallel_for(p, n, task, &j);
            for (int i = 0; i < 1024; i++) wrong += j.hits[i] != (i < n);
            wrong += j.bad_thread;
        }
        printf("pool of %d (size %d): %d wrong counts in 3000 calls\n", sizes[s], bert_threadpool_size(p), wrong);
        if (wrong) failures++;
#ifdef BERT_THREADS
        if (bert_threadpool_size(p) != sizes[s]) failures++, printf("FAIL: size %d\n", bert_threadpool_size(p));
#endif
        if (sizes[s] == 1 && p != NULL) failures++, printf("FAIL: a pool of 1 must be NULL (serial)\n");
#if defined(__unix__) || defined(__APPLE__)
        // a forked child has none of the pool's threads: jobs still run (serially), free returns
        fflush(stdout);
        const pid_t child = fork();
        if (child == 0) {
            alarm(10); // a hang is a failure, not a stuck test
            static job cj;
            memset(&cj, 0, sizeof cj);
            cj.n_threads = bert_threadpool_size(p);
            bert_parallel_for(p, 1000, task, &cj);
            int bad = cj.bad_thread;
            for (int i = 0; i < 1000; i++) bad += cj.hits[i] != 1;
            bert_threadpool_free(p);
            _exit(bad ? 1 : 0);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failures++;
            printf("FAIL: pool of %d after fork: %s\n", sizes[s],
                   child < 0 ? "fork failed" : WIFSIGNALED(status) ? "child hung or crashed" : "wrong counts");
        } else {
            printf("pool of %d: a forked child runs jobs and frees the pool\n", sizes[s]);
        }
#endif
        bert_threadpool_free(p);
    }
    printf(failures ? "test_threads: %d failures\n" : "test_threads: all passed\n", failures);
    return failures ? 1 : 0;
}
