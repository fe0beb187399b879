#!/usr/bin/python3
"""Writes the malformed-model corpus for tests/test_malformed.c.

Every case is a folder tests/fixtures/malformed/<name>/ holding model.safetensors and, where the
case is about them, replacement small files; any small file a case does not hold comes from its
base model (tests/fixtures/tiny, or the 'micro' base this script writes next to the cases, a
complete ~20 KB model used where the weight bytes themselves matter). manifest.json lists
{file, base, omit, status, message_contains, why}: the status the loader must return and a
fragment of its message.

Most cases derive from the tiny fixture's safetensors header and stop there (no weight bytes):
they must fail before any weight byte is needed. Header edits that add or drop tensors repack the
data offsets, so that each case fails for its own reason and not for a gap.

Run: /usr/bin/python3 tests/gen/make_malformed.py [--out tests/fixtures/malformed]
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
TINY = os.path.join(REPO, "tests", "fixtures", "tiny")

DSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
         "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def read_tiny():
    with open(os.path.join(TINY, "model.safetensors"), "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    with open(os.path.join(TINY, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    return raw, n, header, config


def nbytes(t):
    n = DSIZE[t["dtype"]]
    for d in t["shape"]:
        n *= d
    return n


def repack(header):
    """Contiguous data offsets in the current key order (keeps __metadata__ first)."""
    off = 0
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            out[k] = v
            continue
        v = dict(v)
        v["data_offsets"] = [off, off + nbytes(v)]
        off += nbytes(v)
        out[k] = v
    return out


def header_bytes(header_text):
    hb = header_text.encode("utf-8") if isinstance(header_text, str) else header_text
    return struct.pack("<Q", len(hb)) + hb


def dumps(h):
    return json.dumps(h, separators=(",", ":"))


class Corpus:
    def __init__(self, out):
        self.out = out
        self.manifest = []

    def case(self, name, status, fragment, safetensors, files=None, base="tiny", omit=None, why="", budget=0):
        d = os.path.join(self.out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(safetensors)
        for fname, content in (files or {}).items():
            p = os.path.join(d, fname)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(content.encode("utf-8") if isinstance(content, str) else content)
        self.manifest.append({"file": name + "/model.safetensors", "base": base, "omit": omit or [],
                              "status": status, "message_contains": fragment, "why": why, "budget": budget})


def write_micro(out):
    """A complete, valid micro model (vocab 16, hidden 32, 1 layer, F16): ~20 KB."""
    d = os.path.join(out, "micro")
    os.makedirs(d, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "sat", "on", "mat",
             "##s", "##ed", ".", ","]
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in vocab))
    H, F, P = 32, 64, 16
    cfg = {"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": H, "intermediate_size": F,
           "layer_norm_eps": 1e-12, "max_position_embeddings": P, "model_type": "bert",
           "num_attention_heads": 2, "num_hidden_layers": 1, "type_vocab_size": 2, "vocab_size": len(vocab)}
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    shapes = [("embeddings.word_embeddings.weight", (len(vocab), H)),
              ("embeddings.position_embeddings.weight", (P, H)),
              ("embeddings.token_type_embeddings.weight", (2, H)),
              ("embeddings.LayerNorm.weight", (H,)), ("embeddings.LayerNorm.bias", (H,))]
    b = "encoder.layer.0."
    for q in ("query", "key", "value"):
        shapes += [(b + "attention.self.%s.weight" % q, (H, H)), (b + "attention.self.%s.bias" % q, (H,))]
    shapes += [(b + "attention.output.dense.weight", (H, H)), (b + "attention.output.dense.bias", (H,)),
               (b + "attention.output.LayerNorm.weight", (H,)), (b + "attention.output.LayerNorm.bias", (H,)),
               (b + "intermediate.dense.weight", (F, H)), (b + "intermediate.dense.bias", (F,)),
               (b + "output.dense.weight", (H, F)), (b + "output.dense.bias", (H,)),
               (b + "output.LayerNorm.weight", (H,)), (b + "output.LayerNorm.bias", (H,))]
    rng = np.random.default_rng(7)
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name, shape in shapes:
        a = (rng.standard_normal(shape) * 0.05).astype("<f2")
        if name.endswith("LayerNorm.weight"):
            a = (1.0 + a).astype("<f2")
        raw = a.tobytes()
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    hb = dumps(header).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    data = struct.pack("<Q", len(hb)) + hb + b"".join(blobs)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(data)
    return data, cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "malformed"))
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    raw, hlen, H0, C0 = read_tiny()
    data0 = raw[8 + hlen:]
    micro, micro_cfg = write_micro(args.out)
    c = Corpus(args.out)
    BAD, UNS, BUD = "BAD_MODEL", "UNSUPPORTED", "BUDGET_EXCEEDED"

    def hdr(h):
        return header_bytes(dumps(h))

    def edited(fn, pack=True):
        h = json.loads(json.dumps(H0))
        fn(h)
        return hdr(repack(h) if pack else h)

    def cfg(**kw):
        d = dict(C0)
        for k, v in kw.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return {"config.json": json.dumps(d, indent=2)}

    WE = "embeddings.word_embeddings.weight"
    OD = "encoder.layer.1.output.dense.weight"

    # --- framing: the 8-byte length and the header bytes ---
    c.case("empty-file", BAD, "truncated: 0 of 8", b"", why="no bytes at all")
    c.case("short-length", BAD, "truncated: 5 of 8", b"\x10\x00\x00\x00\x00", why="5 of the 8 length bytes")
    c.case("header-len-2pow63", BAD, "over the 100000000-byte limit", struct.pack("<Q", 1 << 63) + b"{}",
           why="length 2^63")
    c.case("header-len-100mb", BAD, "over the 100000000-byte limit", struct.pack("<Q", 100000001) + b"{}",
           why="length just over 100 MB")
    c.case("header-len-zero", BAD, "header length 0 is too small", struct.pack("<Q", 0), why="length 0")
    c.case("header-over-budget", BUD, "header alone is 4192 bytes, over the 1000-byte budget", raw[:8 + hlen],
           budget=1000, why="a budget smaller than the header: refused before buffering it")
    c.case("header-past-end", BAD, "truncated inside the header",
           struct.pack("<Q", hlen + 5000) + raw[8:8 + hlen], why="length past the end of the file")
    c.case("not-json", BAD, "not valid JSON", header_bytes("hello, world"), why="header is not JSON")
    c.case("json-array", BAD, "not a JSON object", header_bytes("[1, 2, 3]"), why="header is an array")
    c.case("json-cut", BAD, "not valid JSON", header_bytes(dumps(H0)[:2000]), why="header JSON cut short")
    c.case("nul-padding", BAD, "not valid JSON", header_bytes(dumps(H0).encode() + b"\0" * 8),
           why="NUL instead of space padding")
    c.case("json-deep", BAD, "not valid JSON", header_bytes("[" * 200 + "]" * 200), why="nesting past the limit")

    # --- entries ---
    c.case("entry-not-object", BAD, "is not a JSON object", edited(lambda h: h.__setitem__("x", 5), pack=False),
           why="a tensor entry that is a number")
    c.case("no-dtype", BAD, "has no dtype string", edited(lambda h: h[WE].pop("dtype"), pack=False))
    c.case("unknown-dtype", BAD, "unknown dtype 'F17'", edited(lambda h: h[WE].__setitem__("dtype", "F17"), pack=False))
    c.case("no-shape", BAD, "has no shape array", edited(lambda h: h[WE].__setitem__("shape", 5), pack=False))
    c.case("shape-negative", BAD, "shape[0] is not a non-negative integer",
           edited(lambda h: h[WE].__setitem__("shape", [-30522, 32]), pack=False))
    c.case("shape-fraction", BAD, "shape[1] is not a non-negative integer",
           edited(lambda h: h[WE].__setitem__("shape", [30522, 32.5]), pack=False))
    c.case("too-many-dims", BAD, "has 9 dimensions",
           edited(lambda h: h[WE].__setitem__("shape", [1] * 7 + [30522, 32]), pack=False))
    c.case("no-offsets", BAD, "needs data_offsets", edited(lambda h: h[WE].pop("data_offsets"), pack=False))
    c.case("offsets-three", BAD, "needs data_offsets",
           edited(lambda h: h[WE].__setitem__("data_offsets", [0, 1, 2]), pack=False))

    def reverse(h):
        b, e = h[WE]["data_offsets"]
        h[WE]["data_offsets"] = [e, b]
    c.case("offsets-reversed", BAD, "reversed data_offsets", edited(reverse, pack=False))

    def overlap(h):
        b, e = h[OD]["data_offsets"]
        h[OD]["data_offsets"] = [b - 64, e - 64]
    c.case("offsets-overlap", BAD, "overlaps tensor", edited(overlap, pack=False))

    def gap(h):
        last = max(h[k]["data_offsets"][1] for k in h if k != "__metadata__")
        for k in h:
            if k != "__metadata__" and h[k]["data_offsets"][1] == last:
                b, e = h[k]["data_offsets"]
                h[k]["data_offsets"] = [b + 64, e + 64]
    c.case("offsets-gap", BAD, "gap of 64 bytes before tensor", edited(gap, pack=False))

    def shift_all(h):
        for k in h:
            if k != "__metadata__":
                b, e = h[k]["data_offsets"]
                h[k]["data_offsets"] = [b + 16, e + 16]
    c.case("offsets-not-from-zero", BAD, "gap of 16 bytes", edited(shift_all, pack=False))
    c.case("offsets-past-end", BAD, "truncated at byte offset",
           raw[:8 + hlen] + data0[:1000], why="data_offsets beyond the end of the file")
    c.case("dtype-shape-bytes", BAD, "span", edited(lambda h: h[WE].__setitem__("shape", [30522, 31]), pack=False),
           why="shape x dtype != byte length")
    c.case("shape-overflow", BAD, "too many bytes",
           edited(lambda h: h[WE].__setitem__("shape", [1 << 40, 1 << 40, 1 << 40]), pack=False),
           why="element count overflows 64 bits")

    # duplicates: a repeated JSON key, and two names for the same weight
    dup_text = dumps(H0)
    first = dup_text.index('"%s"' % WE)
    entry_end = dup_text.index("}", first) + 1
    dup_text = dup_text[:-1] + "," + dup_text[first:entry_end] + "}"
    c.case("duplicate-key", BAD, "duplicate tensor 'embeddings.word_embeddings.weight'", header_bytes(dup_text))

    def alias(h):
        h["bert.embeddings.LayerNorm.gamma"] = dict(h["embeddings.LayerNorm.weight"])
    c.case("duplicate-alias", BAD, "are the same weight", edited(alias), why="gamma and weight for one tensor")

    # --- directory vs config.json ---
    c.case("missing-tensor", BAD, "missing tensor 'encoder.layer.1.output.dense.bias'",
           edited(lambda h: h.pop("encoder.layer.1.output.dense.bias")))
    c.case("missing-word-embeddings", BAD, "missing tensor 'embeddings.word_embeddings.weight'",
           edited(lambda h: h.pop(WE)))
    c.case("missing-key", BAD, "missing tensor 'encoder.layer.0.attention.self.key.weight'",
           edited(lambda h: h.pop("encoder.layer.0.attention.self.key.weight")))
    c.case("metadata-only", BAD, "missing tensors: config.json has 2 layers",
           header_bytes('{"__metadata__":{"format":"pt"}}'))
    c.case("config-ff-mismatch", BAD, "has shape [128] but config.json implies [64]", hdr(H0),
           files=cfg(intermediate_size=64))
    c.case("config-vocab-mismatch", BAD, "has shape [30522, 32] but config.json implies [30000, 32]", hdr(H0),
           files=cfg(vocab_size=30000))
    c.case("one-d-embeddings", BAD, "has shape [976704] but config.json implies [30522, 32]",
           edited(lambda h: h[WE].__setitem__("shape", [30522 * 32]), pack=False))

    def small_vocab(h):
        h[WE]["shape"] = [30000, 32]
    c.case("tokenizer-larger", BAD, "the tokenizer has 30522 tokens but the word embeddings have only 30000 rows",
           edited(small_vocab), files=cfg(vocab_size=30000))
    c.case("layer-out-of-range", BAD, "is for layer 7 but config.json has 2 layers",
           edited(lambda h: h.__setitem__("encoder.layer.7.output.dense.bias", h.pop("encoder.layer.1.output.dense.bias"))))
    c.case("unknown-tensor", UNS, "unexpected tensor 'encoder.layer.0.attention.self.distance_embedding.weight'",
           edited(lambda h: h.__setitem__("encoder.layer.0.attention.self.distance_embedding.weight",
                                          {"dtype": "F16", "shape": [1023, 16], "data_offsets": [0, 0]})))

    def dtype_to(dt):
        def f(h):
            h[OD]["dtype"] = dt
        return f
    c.case("weight-i8", UNS, "has dtype I8: weights must be F32, F16 or BF16", edited(dtype_to("I8")))
    c.case("weight-f64", UNS, "has dtype F64", edited(dtype_to("F64")))
    c.case("weight-i64", UNS, "has dtype I64", edited(dtype_to("I64")))

    def cross(n_rows, pooler=True):
        def f(h):
            if not pooler:
                h.pop("pooler.dense.weight")
                h.pop("pooler.dense.bias")
            h["classifier.weight"] = {"dtype": "F16", "shape": [n_rows, 32], "data_offsets": [0, 0]}
            h["classifier.bias"] = {"dtype": "F16", "shape": [n_rows], "data_offsets": [0, 0]}
        return f
    c.case("labels-mismatch", BAD, "classifier.weight has 3 rows but config.json num_labels/id2label says 2",
           edited(cross(3)), files=cfg(num_labels=2))
    c.case("classifier-bias-only", BAD, "needs a 2-D classifier.weight",
           edited(lambda h: h.__setitem__("classifier.bias", {"dtype": "F16", "shape": [0], "data_offsets": [0, 0]})),
           why="a zero-length classifier.bias and no weight")
    c.case("classifier-1d", BAD, "needs a 2-D classifier.weight",
           edited(lambda h: h.__setitem__("classifier.weight", {"dtype": "F16", "shape": [32], "data_offsets": [0, 0]})))
    c.case("cross-no-pooler", BAD, "missing tensor 'pooler.dense.weight'", edited(cross(1, pooler=False)))

    # --- config.json itself ---
    c.case("config-not-json", BAD, "config.json is not valid JSON", hdr(H0), files={"config.json": "{hidden_size: 32"})
    c.case("config-heads", BAD, "hidden_size 32 is not divisible by num_attention_heads 3", hdr(H0),
           files=cfg(num_attention_heads=3))
    c.case("config-zero-layers", BAD, "num_hidden_layers must be a positive integer", hdr(H0),
           files=cfg(num_hidden_layers=0))
    c.case("config-negative-hidden", BAD, "hidden_size must be a positive integer", hdr(H0),
           files=cfg(hidden_size=-32))
    c.case("config-huge-hidden", BAD, "hidden_size must be a positive integer below 2^31", hdr(H0),
           files=cfg(hidden_size=1 << 40))
    c.case("config-missing-hidden", BAD, "missing hidden_size", hdr(H0), files=cfg(hidden_size=None))
    c.case("config-act", UNS, "hidden_act 'swish' is not supported", hdr(H0), files=cfg(hidden_act="swish"))
    c.case("config-model-type", UNS, "model_type 'roberta' is not supported", hdr(H0), files=cfg(model_type="roberta"))
    c.case("config-relative-pos", UNS, "position_embedding_type 'relative_key'", hdr(H0),
           files=cfg(position_embedding_type="relative_key"))

    # absurd but self-consistent sizes: the plan is refused before any allocation
    def absurd(E, V, F):
        def f(h):
            for k in list(h):
                if k == "__metadata__" or k.startswith("encoder.layer.1."):
                    if k != "__metadata__":
                        h.pop(k)
                    continue
                shp = h[k]["shape"]
                h[k]["shape"] = [{32: E, 128: F, 30522: V}.get(d, d) for d in shp]
        return f
    c.case("absurd-plan", BUD, "build can allocate", edited(absurd(65536, 2000000000, 262144)),
           files=cfg(hidden_size=65536, vocab_size=2000000000, intermediate_size=262144, num_hidden_layers=1,
                     num_attention_heads=16),
           why="a self-consistent 256 TB model: refused at plan time")
    c.case("absurd-overflow", BAD, "model sizes overflow", edited(absurd(1 << 21, 2147483647, 1 << 21)),
           files=cfg(hidden_size=1 << 21, vocab_size=2147483647, intermediate_size=1 << 21, num_hidden_layers=1,
                     num_attention_heads=16),
           why="sizes past what the forward pass can plan")

    # a 4.6 GB plan (bert-large with a 4M-token vocabulary): over a 2 GiB budget natively, and over
    # what a wasm32 build can allocate whatever the budget (same status, both messages say 2.00 GiB)
    def big(h):
        h2 = {"__metadata__": h["__metadata__"]}
        for k, v in h.items():
            if k == "__metadata__" or k.startswith("encoder.layer.1."):
                continue
            if k.startswith("encoder.layer.0."):
                for i in range(24):
                    h2[k.replace("encoder.layer.0.", "encoder.layer.%d." % i)] = dict(v)
            else:
                h2[k] = dict(v)
        for k, v in h2.items():
            if k != "__metadata__":
                v["shape"] = [{32: 1024, 128: 4096, 30522: 4000000}.get(d, d) for d in v["shape"]]
        h.clear()
        h.update(h2)
    c.case("plan-over-4gib", BUD, "2.00 GiB", edited(big),
           files=cfg(hidden_size=1024, vocab_size=4000000, intermediate_size=4096, num_hidden_layers=24,
                     num_attention_heads=16),
           budget=2 << 30, why="refused at plan time, before any allocation")

    # --- tokenizer and sentence-transformers files ---
    mvocab = open(os.path.join(args.out, "micro", "vocab.txt"), encoding="utf-8").read()
    mhead = micro[:8 + struct.unpack("<Q", micro[:8])[0]]
    for tok in ("[CLS]", "[SEP]", "[UNK]"):
        c.case("vocab-no-" + tok.strip("[]").lower(), BAD, tok, mhead,
               files={"vocab.txt": mvocab.replace(tok + "\n", tok.lower().strip("[]") + "x\n", 1)},
               base="micro", why="vocab.txt without " + tok)
    c.case("no-tokenizer", BAD, "no tokenizer", hdr(H0), omit=["tokenizer.json", "vocab.txt"])
    pool = json.load(open(os.path.join(TINY, "1_Pooling", "config.json")))
    pool["pooling_mode_mean_tokens"] = False
    pool["pooling_mode_lasttoken"] = True
    c.case("pooling-lasttoken", UNS, "pooling mode 'lasttoken' is not supported", hdr(H0),
           files={"1_Pooling/config.json": json.dumps(pool)})
    mods = json.load(open(os.path.join(TINY, "modules.json")))
    mods.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
    c.case("modules-dense", UNS, "module 'sentence_transformers.models.Dense' is not supported", hdr(H0),
           files={"modules.json": json.dumps(mods)})
    c.case("st-max-seq", BAD, "max_seq_length must be a positive integer", hdr(H0),
           files={"sentence_bert_config.json": '{"max_seq_length": -5}'})

    # --- the weight bytes (complete micro model) ---
    c.case("trailing-bytes", BAD, "bytes past the end of the tensor data", micro + b"\0" * 100, base="micro",
           why="100 bytes after the last tensor")
    mlen = struct.unpack("<Q", micro[:8])[0]
    c.case("truncated-mid-tensor", BAD, "truncated at byte offset %d" % (len(micro) - 77), micro[:-77],
           base="micro", why="the last 77 bytes missing")
    c.case("truncated-at-data", BAD, "truncated at byte offset %d, inside tensor" % (8 + mlen),
           micro[:8 + mlen], base="micro", why="header only")
    c.case("micro-ok", "OK", "", micro, base="micro", why="control: the micro base loads")

    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(c.manifest, f, indent=1)
        f.write("\n")
    print("%s: %d cases" % (args.out, len(c.manifest)))


if __name__ == "__main__":
    main()
