// safetensors.h - the safetensors header: 8-byte little-endian length, then a JSON object
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}} (internal).
// Parsing turns it into a tensor directory sorted by data offset and fully validated: known dtypes,
// shape x dtype == byte length, offsets in order, no overlap, no gap (like the reference
// implementation, which requires the data area to be covered exactly), no duplicate names.
#ifndef BERT_SAFETENSORS_H
#define BERT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"

// Headers bigger than this are refused before any allocation (the reference uses 100 MB too).
#define BERT_ST_MAX_HEADER 100000000ull
#define BERT_ST_MAX_DIMS 8

typedef enum {
    BERT_ST_BOOL, BERT_ST_U8, BERT_ST_I8, BERT_ST_F8_E5M2, BERT_ST_F8_E4M3, BERT_ST_I16, BERT_ST_U16,
    BERT_ST_F16, BERT_ST_BF16, BERT_ST_I32, BERT_ST_U32, BERT_ST_F32, BERT_ST_F64, BERT_ST_I64,
    BERT_ST_U64,
} bert_st_dtype;

typedef struct {
    const char *name;   // as in the file, NUL-terminated (owned by the directory)
    bert_st_dtype dtype;
    int32_t n_dims;
    uint64_t shape[BERT_ST_MAX_DIMS];
    uint64_t begin, end; // byte range relative to the start of the data area
} bert_st_tensor;

typedef struct {
    bert_st_tensor *tensors; // n, sorted by begin
    int32_t n;
    char *names;             // storage for the names
    uint64_t data_size;      // bytes of the data area (== last end)
} bert_st_dir;

const char *bert_st_dtype_name(bert_st_dtype t);
uint64_t bert_st_dtype_size(bert_st_dtype t);

// Parses the JSON header text (n bytes). err: BERT_ERROR_SIZE bytes. On failure dir is empty.
bert_status bert_st_parse(bert_st_dir *dir, const char *json, size_t n, char *err);
void bert_st_free(bert_st_dir *dir);

#endif
