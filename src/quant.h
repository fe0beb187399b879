// quant.h - storage formats and row conversion. Block layouts are ggml's, so GGUF tensors can be
// read and written unchanged: q8_0 = f16 scale + 32 int8; q4_0 = f16 scale + 32 4-bit values
// (byte j holds element j in its low nibble and element j+16 in its high nibble, offset by 8).
#ifndef BERT_QUANT_H
#define BERT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

#define QK 32

typedef struct {
    uint16_t d;      // scale, f16
    int8_t qs[QK];   // x = d * qs
} block_q8_0;        // 34 bytes

typedef struct {
    uint16_t d;          // scale, f16
    uint8_t qs[QK / 2];  // x = d * (nibble - 8)
} block_q4_0;            // 18 bytes

// Bytes for one row of n values of type t (n % 32 == 0 for quantized types); 0 if n is invalid.
uint64_t bert_row_size(bert_type t, int64_t n);
// 1 if n values can be stored as t (quantized types need n % 32 == 0).
int bert_type_fits(bert_type t, int64_t n);

// f32 -> t, one row of n values. A block of zeros gets scale 0 (no division by zero).
void bert_quantize_row(bert_type t, const float *src, void *dst, int64_t n);
// Scalar twin of bert_quantize_row (SIMD128); identical output. For tests.
void bert_quantize_row_ref(bert_type t, const float *src, void *dst, int64_t n);
// t -> f32, one row of n values.
void bert_dequantize_row(bert_type t, const void *src, float *dst, int64_t n);

#endif
