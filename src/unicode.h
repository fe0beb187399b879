// unicode.h - the Unicode data the BERT tokenizer needs, from generated tables (unicode_tables.c,
// made by tools/gen_unicode_tables.py from the UCD of Debian's unicode-data package; the version is
// bert_unicode_version). Lookups are branch-light and allocation-free.
#ifndef BERT_UNICODE_H
#define BERT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

// Property bits of one code point (bert_uc_props).
enum {
    BERT_UC_CONTROL = 1,   // Cc, Cf, Co, Cs (the cleaner keeps \t \n \r: they are whitespace)
    BERT_UC_SPACE = 2,     // JavaScript \s: Zs, U+0009..U+000D, U+2028, U+2029, U+FEFF
    BERT_UC_PUNCT = 4,     // P* plus ASCII 21-2F, 3A-40, 5B-60, 7B-7E (Hugging Face's _is_punctuation)
    BERT_UC_MN = 8,        // nonspacing mark: dropped when stripping accents
    BERT_UC_CASED = 16,    // Cased (Final_Sigma context)
    BERT_UC_CASE_IGN = 32, // Case_Ignorable (Final_Sigma context)
    BERT_UC_LOWER = 64,    // has a lowercase mapping
    BERT_UC_DECOMP = 128,  // has a canonical decomposition
};

extern const char bert_unicode_version[];
extern const uint8_t bert_uc_stage1[];
extern const uint16_t bert_uc_stage2[];
extern const uint8_t bert_uc_stage3[];

static inline unsigned bert_uc_props(uint32_t cp) {
    if (cp > 0x10FFFF) return 0;
    return bert_uc_stage3[(uint32_t)bert_uc_stage2[(uint32_t)bert_uc_stage1[cp >> 9] * 32 + ((cp >> 4) & 31)] * 16 +
                          (cp & 15)];
}

// Full lowercase mapping (UnicodeData simple mapping, SpecialCasing unconditional one-to-many
// mappings; Final_Sigma is the caller's job). Writes 1..3 code points to out, returns the count.
int bert_uc_lower(uint32_t cp, uint32_t out[3]);

// Full canonical decomposition (recursive, Hangul included), without canonical reordering.
// Writes up to 4 code points to out, returns the count (1 = the code point itself).
int bert_uc_decompose(uint32_t cp, uint32_t out[4]);

// Canonical combining class, exact only where the tokenizer asks: for non-Mn characters, and
// zero / non-zero for Mn characters (returns 1 for any Mn with a non-zero class).
int bert_uc_ccc_nonmn(uint32_t cp);
int bert_uc_mn_has_ccc(uint32_t cp);

// WHATWG UTF-8 decoder step: decodes one code point at s[*pos] (pos < n), advancing *pos over it;
// a maximal invalid subsequence yields U+FFFD.
uint32_t bert_utf8_next(const uint8_t *s, size_t n, size_t *pos);
// Encodes cp (< 0x110000) as UTF-8 into out (4 bytes), returns the byte count.
int bert_utf8_put(uint32_t cp, uint8_t *out);

#endif
