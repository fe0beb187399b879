#!/usr/bin/python3
"""Build tests/tokenizer/corpus.txt.gz (real text + hard cases) and sweep.txt.gz (every assigned code
point): the differential-test corpora for the tokenizer.

One encode call per line ('\\n'-separated, raw bytes). Sources, all from Debian packages installed on
the build machine (run once; the committed file is what tests use):
  * translations: msgstr texts of the .mo catalogs in /usr/share/locale (about 200 languages and
    many scripts), a deterministic sample per language;
  * English prose: /usr/share/common-licenses and /usr/share/doc/*/copyright;
  * code: C headers from /usr/include;
  * the Unicode sweep (separate file): every code point assigned in the UCD of /usr/share/unicode (DerivedAge.txt,
    excluding the big Han/Hangul/Tangut/private-use blocks, which are sampled) in several contexts
    (start of word, inside a word, after a cased letter, alone), so every table entry is exercised;
  * hand-written hard cases: control characters, combining marks, emoji ZWJ sequences, math, URLs,
    Final_Sigma, U+0130, added tokens in the text, long words, and invalid UTF-8;
  * random mixes of those tricky pieces and random bytes.

Usage: /usr/bin/python3 tests/tokenizer/build_corpus.py [--out tests/tokenizer/corpus.txt.gz]
"""
import argparse
import glob
import gzip
import os
import random
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def mo_strings(path):
    """msgstr texts of a GNU .mo file."""
    with open(path, "rb") as f:
        d = f.read()
    if len(d) < 28:
        return []
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if not e:
        return []
    n, _, toff = struct.unpack(e + "III", d[8:20])
    out = []
    for i in range(n):
        ln, off = struct.unpack(e + "II", d[toff + 8 * i:toff + 8 * i + 8])
        s = d[off:off + ln]
        for part in s.split(b"\0"):  # plural forms
            try:
                t = part.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if t and not t.startswith("Project-Id-Version"):
                out.append(t)
    return out


def lines_of(text):
    return [l for l in text.split("\n") if l.strip()]


def translations(rng, per_lang):
    langs = sorted(os.listdir("/usr/share/locale"))
    out = []
    for lang in langs:
        mos = sorted(glob.glob("/usr/share/locale/%s/LC_MESSAGES/*.mo" % lang))
        pool = []
        for mo in mos:
            for s in mo_strings(mo):
                pool.extend(lines_of(s))
        pool = sorted(set(pool))
        rng.shuffle(pool)
        out.extend(pool[:per_lang])
    return out


def prose(rng, n):
    files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/share/doc/*/copyright"))
    pool = []
    for fn in files:
        if os.path.isdir(fn):
            continue
        try:
            with open(fn, "rb") as f:
                data = f.read()
        except OSError:
            continue
        pool.extend(l for l in data.split(b"\n") if l.strip())
    pool = sorted(set(pool))
    rng.shuffle(pool)
    return pool[:n]


def code(rng, n):
    files = sorted(glob.glob("/usr/include/*.h"))
    pool = []
    for fn in files:
        with open(fn, "rb") as f:
            pool.extend(l for l in f.read().split(b"\n") if l.strip())
    pool = sorted(set(pool))
    rng.shuffle(pool)
    return pool[:n]


def assigned_codepoints(ucd="/usr/share/unicode"):
    cps = []
    with open(os.path.join(ucd, "DerivedAge.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            a = line.split(";")[0].strip()
            s, _, e = a.partition("..")
            cps.extend(range(int(s, 16), int(e or s, 16) + 1))
    return sorted(set(cps))


def big_block(c):
    return (0x3400 <= c <= 0x4DBF or 0x4E00 <= c <= 0x9FFF or 0xAC00 <= c <= 0xD7A3 or 0x17000 <= c <= 0x18AFF
            or 0x20000 <= c <= 0x3134F or 0xE000 <= c <= 0xF8FF or c >= 0xF0000 or 0xD800 <= c <= 0xDFFF)


def sweep(rng):
    cps = [c for c in assigned_codepoints() if not big_block(c) or rng.random() < 0.01]
    out = []
    for i in range(0, len(cps), 24):
        chunk = [chr(c) for c in cps[i:i + 24]]
        # alone, start of word, inside a word, after a cased letter (Final_Sigma context), capital context
        parts = [" ".join(chunk), " ".join(c + "ab" for c in chunk), "".join("x" + c for c in chunk) + "y",
                 " ".join("ΑΣ" + c + "Β" for c in chunk[:8]), " ".join("Σ" + c for c in chunk[8:16])]
        out.append(" ".join(parts).encode("utf-8", "surrogatepass"))
    return out


HARD = [
    "Hello, World! This is a TEST of the BERT tokenizer.",
    "ΟΔΥΣΣΕΥΣ ΑΣ Σ ΣΑ ΑΣ. ΑΣ.x ΑΣ\u0301 Α\u00adΣ\u00ad ΑΣ'Β ΣΣ ΑΣ1",
    "İstanbul İİ i\u0307 ΜΆΪΟΣ Straße ǅemal ǈ ǋ Ὰ ᾼ ﬁ ﬀ ŉ",
    "naïve café résumé Ångström Øre Æsir crème brûlée Zürich São Paulo",
    "e\u0301\u0302\u0303 a\u0316\u0301 o\u0308\u0304 \u1d15e\u1d165 \U0001D15E\U0001D160 \U0001D16D\U0001D165 x\U0001D16D\U0001D165\u0301y x\U0001D16D\u0F39\U0001D165",
    "Z\u0351\u0357\u0300\u0310a\u0347\u032al\u0362g\u0358o\u0334 t\u0336e\u0338x\u0335t",
    "family \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 flag \U0001F1FA\U0001F1F8 \U0001F44D\U0001F3FD \u2764\ufe0f \U0001F3F3\ufe0f\u200d\U0001F308",
    "∀x∈ℝ: x² ≥ 0 ∧ ∑_{i=1}^{n} i = n(n+1)/2 ∫₀^∞ e^{-x²} dx = √π/2 ≠ ∞ ⊂ ⊆ ∮ ∇·E = ρ/ε₀",
    "https://example.com/path?query=1&b=%20x#frag mailto:someone@example.org ftp://ftp.debian.org/debian/",
    "int main(void) { return printf(\"%d\\n\", a[i++] << 2) != 0 && x->y; } // C++ #include <stdio.h>",
    "中文字符测试，包括标点。日本語のテキスト、カタカナとひらがな。한국어 텍스트입니다. \U00020000\U00020001𠀀x",
    "\uF900\uF901 \uFA0E \u2F00 \u3007 \u3400\u4DBF \u9FFF\uA000",
    "Ελληνικά: Η γρήγορη καφέ αλεπού ΠΗΔΆΕΙ ΠΆΝΩ ΑΠΌ ΤΟ ΤΕΜΠΈΛΙΚΟ ΣΚΥΛΊ.",
    "Русский текст: Съешь же ещё этих мягких французских булок, да выпей ЧАЮ. Ёжик",
    "العربية: نص تجريبي مع تشكيل: اَلْعَرَبِيَّةُ ، ؟ ٣٤٥",
    "עברית: טקסט בדיקה עם ניקוד: שָׁלוֹם",
    "हिन्दी पाठ: क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़ । नमस्ते दुनिया",
    "ภาษาไทย ทดสอบ การตัดคำ ๑๒๓",
    "Tiếng Việt: Chào thế giới, ẩm thực Việt Nam rất ngon.",
    "[CLS] [SEP] [MASK] [PAD] [UNK] [cls] [Sep] x[MASK]y [MASK][MASK] [[CLS]] [CLS",
    "tab\there\tand\x0bvertical\x0cform\rcarriage\u0085nel\u2028ls\u2029ps\u00a0nbsp\u3000ideo\u202fnnbsp\u205f\u180e\ufeffbom\u200bzwsp\u200c\u200d",
    "ctrl\x01\x02\x03\x1b[31mred\x1b[0m\x7f\x80\x9f del",
    "\ufffd\ufffdreplacement\ufffd chars \ufffd",
    "soft\u00adhyphen word\u2060joiner \u202eRTL override\u202c \ue000private\U000F0000",
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101 + " " + "é" * 100 + " " + "é" * 101,
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "unaffable unbelievable ## ### #hashtag @mention $100 €50 ¥1000 £20 ¢ 50% 3.14159 1,000,000 -42 +7",
    "quotes: \u201chello\u201d \u2018hi\u2019 \u00abbonjour\u00bb \u300cこんにちは\u300d ‹› „…“ — – ‐ ‑ ‒ ― ⁓",
    "fullwidth: ＡＢＣ ａｂｃ １２３ ！？ ｶﾀｶﾅ",
    "   leading and trailing spaces   ",
    "",
    " ",
    "\t\t",
    "\u3000",
    "x",
    ".",
    "Ⅻ ⅻ ① ⓐ Ⓐ ℌ ℍ ℎ K Å Ω ǅ ǈ ǋ ǲ ᾈ ᾘ ᾨ ᾼ ῌ ῼ",
    "ꙮ 𝔸𝕓𝖈 𝐀𝐁𝐂 𐐀𐐨 𞤀𞤢 Ⴀⴀ Ꭰꭰ 𖹀𖹠 𑢠𑣀",
    "Hangul jamo: \u1100\u1161\u11a8 \u3131\u314f 각 갂 힣 각",
    "Devanagari NFD: \u0915\u093c \u0958 \u0929 \u0931 \u0934",
    "Tibetan: \u0f73 \u0f75 \u0f81 \u0f40\u0f71\u0f72 ཀྵ",
    "combining only: \u0301\u0302 \u0300 \u20dd \u20e3 1\u20e3 #\ufe0f\u20e3",
    "mixed\u0301Σ Σ\u0301 x\u0345Σ \u02b0Σ ΑΣ\u02b0",
]

BAD = [
    b"invalid \xff byte",
    b"lone continuation \x80\x80\x80 bytes",
    b"truncated two-byte \xc3 end",
    b"truncated three \xe2\x82 and four \xf0\x9f\x98 seq",
    b"overlong \xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf",
    b"surrogate \xed\xa0\x80 \xed\xbf\xbf encoded",
    b"above max \xf4\x90\x80\x80 \xf5\x80\x80\x80 \xf8\x88\x80\x80\x80",
    b"mixed \xe2\x82\xac ok \xe2\x82 bad \xe2 \xe2\x82\xac\xe2",
    b"\xc3\xa9\xc3",
    b"\xef\xbb\xbfBOM at start",
    b"nul\x00inside\x00text",
    b"latin1: caf\xe9 na\xefve \xc9cole",
    b"cp1252 quotes: \x93hi\x94 \x96 dash",
    b"\xe0\xa0 \xe0\x9f\x80 \xed\x9f\xbf \xf0\x90\x80 \xf4\x8f\xbf\xbf",
    b"\xc2",
    b"\xe2\x82",
    b"x\xf0\x9f\x98\x80y\xf0\x9f\x98z",
    "ΑΣ\udcff ΑΣ\udcffΒ".encode("utf-8", "surrogateescape"),
    b"[CLS\xff] [CL\xc3S] [SEP]\xff[MASK]",
]


def random_bad(rng, n):
    out = []
    for _ in range(n):
        b = bytearray()
        for _ in range(rng.randint(1, 40)):
            r = rng.random()
            if r < 0.4:
                b += rng.choice([b"word", b" ", b"\xc3\xa9", b"\xe4\xb8\xad", b"\xf0\x9f\x98\x80", b"\xce\xa3"])
            else:
                b.append(rng.randrange(256))
        out.append(bytes(b).replace(b"\n", b" "))
    return out


MIX = [b"a", b"B", b" ", b"\t", b"[CLS]", b"[MASK]", b"[", b"\xce\xa3", b"\xcc\x81", b"\xf0\x9d\x85\xa5",
       b"\xf0\x9d\x85\xad", b"\xe4\xb8\xad", b"\xc4\xb0", b"\xea\xb0\x81", b"\x00", b"\x01", b"\xff", b"\xe2\x82",
       b"\xef\xbb\xbf", b"##", b"un", b"aff", b"\xe0\xbd\xb3", b"\xe1\xbf\xaf", b"\xf0\xa0\x80\x80", b"."]


def random_mix(rng, n):
    """Random mixes of the tricky pieces (sigma, marks, reordering, specials, bad bytes)."""
    out = []
    for _ in range(n):
        k = rng.choice([1, 2, 5, 20, 100, 300])
        out.append(b"".join(rng.choice(MIX) if rng.random() < 0.8 else bytes([rng.randrange(256)])
                            for _ in range(k)).replace(b"\n", b" "))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "corpus.txt.gz"))
    ap.add_argument("--sweep-out", default=os.path.join(HERE, "sweep.txt.gz"))
    ap.add_argument("--per-lang", type=int, default=110)
    a = ap.parse_args()
    rng = random.Random(20261129)
    sections = []
    tr = translations(rng, a.per_lang)
    sections.append(("translations", [s.encode("utf-8") for s in tr]))
    sections.append(("prose", prose(rng, 4000)))
    sections.append(("code", code(rng, 1500)))
    sections.append(("hard", [s.encode("utf-8", "surrogatepass") for s in HARD]))
    sections.append(("invalid", BAD + random_bad(rng, 300)))
    sections.append(("random", random_mix(rng, 3000)))
    write(a.out, sections)
    write(a.sweep_out, [("sweep", sweep(rng))])


def write(path, sections):
    lines = []
    for name, ls in sections:
        ls = [l.replace(b"\n", b" ") for l in ls]
        print("%-12s %6d lines" % (name, len(ls)))
        lines.extend(ls)
    data = b"\n".join(lines) + b"\n"
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    print("%d lines, %d bytes, %d gzipped -> %s" % (len(lines), len(data), os.path.getsize(path), path))


if __name__ == "__main__":
    main()
