// common.h - small shared helpers: error reporting, overflow-checked sizes, f16/bf16 conversion.
#ifndef BERT_COMMON_H
#define BERT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bert.h"

#define BERT_ERROR_SIZE 512

// Formats the message into err (BERT_ERROR_SIZE bytes) and returns status, so a failure is
// reported and returned in one expression: `return bert_fail(l->err, BERT_STATUS_BAD_MODEL, ...)`.
bert_status bert_fail(char *err, bert_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

// Overflow-checked size arithmetic: return 0 on success, -1 on overflow (out untouched then).
static inline int bert_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return -1;
    *out = a * b;
    return 0;
}
static inline int bert_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (b > UINT64_MAX - a) return -1;
    *out = a + b;
    return 0;
}

// IEEE half <-> float, bfloat16 -> float (round-to-nearest-even on the way down).
float bert_f16_to_f32(uint16_t h);
uint16_t bert_f32_to_f16(float f);
static inline float bert_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// Human-readable byte count: "312.4 MiB". Returns buf.
const char *bert_format_bytes(uint64_t n, char *buf, size_t size);

#endif
