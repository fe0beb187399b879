#!/usr/bin/python3
"""Generate src/unicode_tables.c: the Unicode data the BERT tokenizer needs.

Input: the Unicode Character Database as installed by Debian's `unicode-data` package
(/usr/share/unicode): UnicodeData.txt (general category, canonical combining class, canonical
decomposition, simple lowercase mapping), SpecialCasing.txt (unconditional full lowercase
mappings such as U+0130 -> "i\u0307") and DerivedCoreProperties.txt (Cased, Case_Ignorable,
used by the Final_Sigma rule of full lowercasing).

Output tables (see src/unicode.h for how they are read):
  * one property byte per code point in a three-level trie (cp >> 9, (cp >> 4) & 31, cp & 15);
  * lowercase mappings as runs (start, count, step 1|2, delta), plus the few one-to-many mappings;
  * canonical decompositions (one level, as in UnicodeData; the C side recurses), keys split into
    BMP (uint16) and astral (uint32), values packed as first code point | index of the second;
  * canonical combining classes only where the tokenizer needs them: non-Mn characters with a
    non-zero class (their order matters after accents are stripped) and ranges of Mn characters
    with a non-zero class (a zero-class Mn ends a reordering run).

Usage: /usr/bin/python3 tools/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out src/unicode_tables.c]
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))

# Property bits (keep in sync with src/unicode.h).
P_CONTROL = 1    # Cc, Cf, Co, Cs: dropped by BertNormalizer's clean_text (\t \n \r handled in C)
P_SPACE = 2      # JavaScript \s: Zs, U+0009..U+000D, U+2028, U+2029, U+FEFF
P_PUNCT = 4      # Unicode P* plus the ASCII symbol ranges Hugging Face treats as punctuation
P_MN = 8         # Mn (nonspacing mark): removed when stripping accents
P_CASED = 16     # DerivedCoreProperties Cased
P_CASE_IGN = 32  # DerivedCoreProperties Case_Ignorable
P_LOWER = 64     # has a lowercase mapping different from itself
P_DECOMP = 128   # has a canonical decomposition (incl. Hangul syllables)

S1, S2 = 9, 4  # trie shifts: level 1 = cp >> 9, level 2 = (cp >> 4) & 31, level 3 = cp & 15


def read_ucd(ucd):
    cats, ccc, dec, low = {}, {}, {}, {}
    first = None
    with open(os.path.join(ucd, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fl = line.rstrip("\n").split(";")
            cp = int(fl[0], 16)
            if fl[1].endswith(", First>"):
                first = cp
                continue
            if fl[1].endswith(", Last>"):
                for c in range(first, cp + 1):
                    cats[c] = fl[2]
                    ccc[c] = int(fl[3])
                continue
            cats[cp] = fl[2]
            ccc[cp] = int(fl[3])
            if fl[5] and not fl[5].startswith("<"):
                dec[cp] = [int(x, 16) for x in fl[5].split()]
            if fl[13]:
                low[cp] = int(fl[13], 16)
    special = {}
    with open(os.path.join(ucd, "SpecialCasing.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            fl = [x.strip() for x in line.split(";")]
            if len(fl) > 5 and fl[4]:  # conditional (Final_Sigma, language-specific): handled in C / not used
                continue
            cp = int(fl[0], 16)
            lower = [int(x, 16) for x in fl[1].split()]
            if lower != [cp] and len(lower) > 1:
                special[cp] = lower
    props = {}
    version = "?"
    with open(os.path.join(ucd, "DerivedCoreProperties.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"# DerivedCoreProperties-([0-9.]+)\.txt", line)
            if m:
                version = m.group(1)
            line = line.split("#")[0].strip()
            if not line:
                continue
            a, p = [x.strip() for x in line.split(";")]
            if p not in ("Cased", "Case_Ignorable"):
                continue
            s, _, e = a.partition("..")
            for c in range(int(s, 16), int(e or s, 16) + 1):
                props.setdefault(c, set()).add(p)
    return cats, ccc, dec, low, special, props, version


def is_hf_punct(c, cat):
    return cat[0] == "P" or 0x21 <= c <= 0x2F or 0x3A <= c <= 0x40 or 0x5B <= c <= 0x60 or 0x7B <= c <= 0x7E


def prop_byte(c, cats, dec, low, special, props):
    cat = cats.get(c, "Cn")
    v = 0
    if cat in ("Cc", "Cf", "Co", "Cs"):
        v |= P_CONTROL
    if cat == "Zs" or c in (0x9, 0xA, 0xB, 0xC, 0xD, 0x2028, 0x2029, 0xFEFF):
        v |= P_SPACE
    if is_hf_punct(c, cat):
        v |= P_PUNCT
    if cat == "Mn":
        v |= P_MN
    p = props.get(c, ())
    if "Cased" in p:
        v |= P_CASED
    if "Case_Ignorable" in p:
        v |= P_CASE_IGN
    if (c in low and low[c] != c) or c in special:
        v |= P_LOWER
    if c in dec or 0xAC00 <= c <= 0xD7A3:
        v |= P_DECOMP
    return v


def build_trie(P):
    blocks, b_idx = {}, []
    for b in range(0x110000 >> S2):
        t = tuple(P[b << S2:(b + 1) << S2])
        b_idx.append(blocks.setdefault(t, len(blocks)))
    per = 1 << (S1 - S2)
    mids, m_idx = {}, []
    for m in range(0x110000 >> S1):
        t = tuple(b_idx[m * per:(m + 1) * per])
        m_idx.append(mids.setdefault(t, len(mids)))
    assert len(mids) <= 256 and len(blocks) <= 65536
    stage3 = [v for t in sorted(blocks, key=blocks.get) for v in t]
    stage2 = [v for t in sorted(mids, key=mids.get) for v in t]
    return m_idx, stage2, stage3


def lower_runs(low):
    runs = []  # [start, count, step, delta]
    for c, l in sorted((c, l) for c, l in low.items() if l != c):
        d = l - c
        if runs:
            r = runs[-1]
            if r[3] == d and r[1] < 127:
                if r[1] == 1 and c - r[0] in (1, 2):
                    r[2] = c - r[0]
                    r[1] += 1
                    continue
                if c == r[0] + r[1] * r[2]:
                    r[1] += 1
                    continue
        runs.append([c, 1, 1, d])
    return runs


def fmt_array(ctype, name, vals, per_line=16, width=0):
    out = ["const %s %s[%d] = {" % (ctype, name, len(vals))]
    for i in range(0, len(vals), per_line):
        out.append("    " + ", ".join(str(v) for v in vals[i:i + per_line]) + ",")
    out.append("};")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--out", default=os.path.join(REPO, "src", "unicode_tables.c"))
    a = ap.parse_args()
    cats, ccc, dec, low, special, props, version = read_ucd(a.ucd)

    P = [prop_byte(c, cats, dec, low, special, props) for c in range(0x110000)]
    m_idx, stage2, stage3 = build_trie(P)

    runs = lower_runs(low)
    run_key = [(r[0] << 8) | (r[1] << 1) | (r[2] - 1) for r in runs]  # start:21 | count:7 | step-1:1
    run_delta = [r[3] for r in runs]
    assert all(r[1] < 128 for r in runs)
    spec = sorted(special.items())
    assert all(len(v) <= 3 for _, v in spec)

    seconds = sorted(set(d[1] for d in dec.values() if len(d) == 2))
    assert len(seconds) < 127
    sec_idx = {s: i + 1 for i, s in enumerate(seconds)}

    def pack(d):
        assert len(d) in (1, 2)
        return d[0] | ((sec_idx[d[1]] if len(d) == 2 else 0) << 21)

    bmp = sorted(c for c in dec if c <= 0xFFFF)
    ast = sorted(c for c in dec if c > 0xFFFF)

    # Characters whose canonical combining class matters (see src/unicode.h).
    nonmn_ccc = sorted((c, v) for c, v in ccc.items() if v != 0 and cats[c] != "Mn")
    mn_nz = sorted(c for c, v in ccc.items() if v != 0 and cats[c] == "Mn")
    mn_ranges = []
    for c in mn_nz:
        if mn_ranges and mn_ranges[-1][1] + 1 == c:
            mn_ranges[-1][1] = c
        else:
            mn_ranges.append([c, c])
    # A non-zero-class Mn range may only contain non-zero-class Mn (true in the UCD; checked).
    for s, e in mn_ranges:
        assert all(ccc[c] != 0 and cats[c] == "Mn" for c in range(s, e + 1))

    # Self-check: the C lookups, simulated on the emitted arrays, give back the source data.
    for c in range(0x110000):
        assert stage3[stage2[m_idx[c >> S1] * 32 + ((c >> S2) & 31)] * 16 + (c & 15)] == P[c], hex(c)
    for c, l in low.items():
        r = max(i for i, k in enumerate(run_key) if (k >> 8) <= c)
        start, count, step = run_key[r] >> 8, (run_key[r] >> 1) & 127, (run_key[r] & 1) + 1
        got = c + run_delta[r] if (c - start) % step == 0 and (c - start) // step < count else c
        assert got == l, hex(c)
    for c, d in dec.items():
        v = pack(d)
        assert [v & 0x1FFFFF] + ([seconds[(v >> 21) - 1]] if v >> 21 else []) == d, hex(c)

    L = []
    L.append("// unicode_tables.c - GENERATED by tools/gen_unicode_tables.py from the Unicode Character")
    L.append("// Database %s (Debian package unicode-data: UnicodeData.txt, SpecialCasing.txt," % version)
    L.append("// DerivedCoreProperties.txt). Do not edit; rerun the generator.")
    L.append('#include "unicode.h"')
    L.append("")
    L.append('const char bert_unicode_version[] = "%s";' % version)
    L.append("")
    L.append("// Property trie: bert_uc_stage3[bert_uc_stage2[bert_uc_stage1[cp >> 9] * 32 + ((cp >> 4) & 31)] * 16 + (cp & 15)]")
    L.append(fmt_array("uint8_t", "bert_uc_stage1", m_idx, 32))
    L.append(fmt_array("uint16_t", "bert_uc_stage2", stage2, 16))
    L.append(fmt_array("uint8_t", "bert_uc_stage3", stage3, 32))
    L.append("")
    L.append("// Simple lowercase mappings as runs: key = start << 8 | count << 1 | (step - 1); lower = cp + delta.")
    L.append("const int32_t bert_uc_n_lower_runs = %d;" % len(runs))
    L.append(fmt_array("uint32_t", "bert_uc_lower_key", run_key, 8))
    L.append(fmt_array("int32_t", "bert_uc_lower_delta", run_delta, 8))
    L.append("// Unconditional one-to-many lowercase mappings (SpecialCasing.txt): cp, then 3 code points (0 = none).")
    L.append("const int32_t bert_uc_n_lower_special = %d;" % len(spec))
    L.append(fmt_array("uint32_t", "bert_uc_lower_special", [x for c, v in spec for x in [c] + v + [0] * (3 - len(v))], 4))
    L.append("")
    L.append("// Canonical decompositions, one level: value = first | index_of_second << 21 (index 0 = none).")
    L.append("const int32_t bert_uc_n_decomp_bmp = %d;" % len(bmp))
    L.append(fmt_array("uint16_t", "bert_uc_decomp_bmp_key", bmp, 16))
    L.append(fmt_array("uint32_t", "bert_uc_decomp_bmp_val", [pack(dec[c]) for c in bmp], 8))
    L.append("const int32_t bert_uc_n_decomp_astral = %d;" % len(ast))
    L.append(fmt_array("uint32_t", "bert_uc_decomp_astral_key", ast, 8))
    L.append(fmt_array("uint32_t", "bert_uc_decomp_astral_val", [pack(dec[c]) for c in ast], 8))
    L.append(fmt_array("uint32_t", "bert_uc_decomp_second", [0] + seconds, 8))
    L.append("")
    L.append("// Non-Mn characters with a non-zero canonical combining class: cp << 8 | ccc.")
    L.append("const int32_t bert_uc_n_ccc_nonmn = %d;" % len(nonmn_ccc))
    L.append(fmt_array("uint32_t", "bert_uc_ccc_nonmn_tab", [(c << 8) | v for c, v in nonmn_ccc], 8))
    L.append("// Ranges [first, last] of Mn characters with a non-zero canonical combining class.")
    L.append("const int32_t bert_uc_n_mn_ccc_ranges = %d;" % len(mn_ranges))
    L.append(fmt_array("uint32_t", "bert_uc_mn_ccc_ranges", [x for r in mn_ranges for x in r], 8))
    L.append("")
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L) + "\n")
    size = (len(m_idx) + 2 * len(stage2) + len(stage3) + 8 * len(runs) + 16 * len(spec) + 6 * len(bmp)
            + 8 * len(ast) + 4 * (len(seconds) + 1) + 4 * len(nonmn_ccc) + 8 * len(mn_ranges))
    print("Unicode %s: trie %d+%d+%d entries, %d lower runs, %d special, %d+%d decompositions, "
          "%d non-Mn ccc, %d Mn ccc ranges: %d bytes of tables -> %s"
          % (version, len(m_idx), len(stage2), len(stage3), len(runs), len(spec), len(bmp), len(ast),
             len(nonmn_ccc), len(mn_ranges), size, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
