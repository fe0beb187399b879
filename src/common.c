// common.c - error formatting, half-precision conversion, byte formatting.
#include "common.h"

#include <stdarg.h>
#include <stdio.h>

bert_status bert_fail(char *err, bert_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, BERT_ERROR_SIZE, fmt, ap);
    va_end(ap);
    return status;
}

float bert_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t man = h & 0x3FF;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { // subnormal: normalize
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7F800000u | (man << 13); // inf / nan
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t bert_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7FFFFFFFu;
    if (absx >= 0x7F800000u) // inf or nan
        return (uint16_t)(sign | 0x7C00 | (absx > 0x7F800000u ? 0x200 : 0));
    if (absx >= 0x477FF000u) return (uint16_t)(sign | 0x7C00); // rounds to >= 65520: inf
    if (absx < 0x38800000u) { // below the smallest normal half: subnormal or zero
        if (absx < 0x33000000u) return (uint16_t)sign;
        uint32_t man = (absx & 0x7FFFFF) | 0x800000;
        int shift = 126 - (int)(absx >> 23); // 14..24
        uint32_t half = man >> (shift);
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((absx >> 13) - (112u << 10));
    uint32_t rem = absx & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

const char *bert_format_bytes(uint64_t n, char *buf, size_t size) {
    if (n < 1024) snprintf(buf, size, "%llu B", (unsigned long long)n);
    else if (n < (1ull << 20)) snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
    else if (n < (1ull << 30)) snprintf(buf, size, "%.1f MiB", (double)n / 1048576.0);
    else snprintf(buf, size, "%.2f GiB", (double)n / 1073741824.0);
    return buf;
}
