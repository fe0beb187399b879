// unicode.c - lookups over the generated Unicode tables, and the WHATWG UTF-8 decoder.
#include "unicode.h"

extern const int32_t bert_uc_n_lower_runs;
extern const uint32_t bert_uc_lower_key[];
extern const int32_t bert_uc_lower_delta[];
extern const int32_t bert_uc_n_lower_special;
extern const uint32_t bert_uc_lower_special[];
extern const int32_t bert_uc_n_decomp_bmp;
extern const uint16_t bert_uc_decomp_bmp_key[];
extern const uint32_t bert_uc_decomp_bmp_val[];
extern const int32_t bert_uc_n_decomp_astral;
extern const uint32_t bert_uc_decomp_astral_key[];
extern const uint32_t bert_uc_decomp_astral_val[];
extern const uint32_t bert_uc_decomp_second[];
extern const int32_t bert_uc_n_ccc_nonmn;
extern const uint32_t bert_uc_ccc_nonmn_tab[];
extern const int32_t bert_uc_n_mn_ccc_ranges;
extern const uint32_t bert_uc_mn_ccc_ranges[];

int bert_uc_lower(uint32_t cp, uint32_t out[3]) {
    if (cp - 'A' < 26u) {
        out[0] = cp + 32;
        return 1;
    }
    if (!(bert_uc_props(cp) & BERT_UC_LOWER)) {
        out[0] = cp;
        return 1;
    }
    for (int32_t i = 0; i < bert_uc_n_lower_special; i++) {
        const uint32_t *e = bert_uc_lower_special + 4 * i;
        if (e[0] == cp) {
            int n = 0;
            for (int k = 1; k <= 3 && e[k]; k++) out[n++] = e[k];
            return n;
        }
    }
    // Last run starting at or before cp.
    int32_t lo = 0, hi = bert_uc_n_lower_runs - 1, found = -1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if ((bert_uc_lower_key[mid] >> 8) <= cp) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    out[0] = cp;
    if (found >= 0) {
        uint32_t k = bert_uc_lower_key[found], start = k >> 8, count = (k >> 1) & 127, step = (k & 1) + 1;
        uint32_t off = cp - start;
        if (off % step == 0 && off / step < count) out[0] = (uint32_t)((int32_t)cp + bert_uc_lower_delta[found]);
    }
    return 1;
}

// One level of decomposition: 0 if none, else writes 1 or 2 code points.
static int decomp_one(uint32_t cp, uint32_t out[2]) {
    uint32_t v = 0;
    int32_t lo = 0, hi;
    if (cp <= 0xFFFF) {
        hi = bert_uc_n_decomp_bmp - 1;
        while (lo <= hi) {
            int32_t mid = (lo + hi) / 2;
            uint32_t k = bert_uc_decomp_bmp_key[mid];
            if (k == cp) {
                v = bert_uc_decomp_bmp_val[mid];
                break;
            }
            if (k < cp) lo = mid + 1;
            else hi = mid - 1;
        }
    } else {
        hi = bert_uc_n_decomp_astral - 1;
        while (lo <= hi) {
            int32_t mid = (lo + hi) / 2;
            uint32_t k = bert_uc_decomp_astral_key[mid];
            if (k == cp) {
                v = bert_uc_decomp_astral_val[mid];
                break;
            }
            if (k < cp) lo = mid + 1;
            else hi = mid - 1;
        }
    }
    if (!v) return 0;
    out[0] = v & 0x1FFFFF;
    if (v >> 21) {
        out[1] = bert_uc_decomp_second[v >> 21];
        return 2;
    }
    return 1;
}

int bert_uc_decompose(uint32_t cp, uint32_t out[4]) {
    if (!(bert_uc_props(cp) & BERT_UC_DECOMP)) {
        out[0] = cp;
        return 1;
    }
    if (cp >= 0xAC00 && cp <= 0xD7A3) { // Hangul syllable: L V (T), algorithmic
        uint32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / (21 * 28);
        out[1] = 0x1161 + (s % (21 * 28)) / 28;
        if (!t) return 2;
        out[2] = 0x11A7 + t;
        return 3;
    }
    // Depth-first expansion; canonical decompositions nest at most 3 deep and expand to <= 4.
    uint32_t stack[8];
    int sp = 0, n = 0;
    stack[sp++] = cp;
    while (sp > 0) {
        uint32_t c = stack[--sp], d[2];
        int k = (bert_uc_props(c) & BERT_UC_DECOMP) ? decomp_one(c, d) : 0;
        if (k == 0) {
            if (n < 4) out[n++] = c;
        } else if (sp + k <= 8) {
            for (int i = k - 1; i >= 0; i--) stack[sp++] = d[i];
        }
    }
    return n;
}

int bert_uc_ccc_nonmn(uint32_t cp) {
    int32_t lo = 0, hi = bert_uc_n_ccc_nonmn - 1;
    if (cp < (bert_uc_ccc_nonmn_tab[0] >> 8) || cp > (bert_uc_ccc_nonmn_tab[hi] >> 8)) return 0;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        uint32_t k = bert_uc_ccc_nonmn_tab[mid] >> 8;
        if (k == cp) return (int)(bert_uc_ccc_nonmn_tab[mid] & 255);
        if (k < cp) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}

int bert_uc_mn_has_ccc(uint32_t cp) {
    int32_t lo = 0, hi = bert_uc_n_mn_ccc_ranges - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (cp < bert_uc_mn_ccc_ranges[2 * mid]) hi = mid - 1;
        else if (cp > bert_uc_mn_ccc_ranges[2 * mid + 1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

uint32_t bert_utf8_next(const uint8_t *s, size_t n, size_t *pos) {
    size_t i = *pos;
    uint32_t b = s[i++];
    if (b < 0x80) {
        *pos = i;
        return b;
    }
    // Lead byte: number of continuation bytes and the allowed range of the first one
    // (WHATWG: excludes overlongs, surrogates and code points above U+10FFFF).
    int need;
    uint32_t lo = 0x80, hi = 0xBF, cp;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        cp = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        cp = b & 0x07;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *pos = i;
        return 0xFFFD;
    }
    while (need > 0) {
        if (i >= n) {
            *pos = i;
            return 0xFFFD;
        }
        uint32_t c = s[i];
        if (c < lo || c > hi) { // not consumed: it starts the next decode step
            *pos = i;
            return 0xFFFD;
        }
        lo = 0x80;
        hi = 0xBF;
        cp = (cp << 6) | (c & 0x3F);
        i++;
        need--;
    }
    *pos = i;
    return cp;
}

int bert_utf8_put(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}
