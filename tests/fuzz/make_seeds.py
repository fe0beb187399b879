#!/usr/bin/python3
"""Writes the fuzzers' micro model (tests/fuzz/micro/: 1 layer, hidden 32, a 40-token vocabulary)
and seed corpora (tests/fuzz/seeds/<target>/) from the real generator, so fuzzing starts from
well-formed files. Deterministic; the outputs are small and committed.

Run: /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import os
import string
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gen"))
import gen_model  # noqa: E402

MICRO = dict(n_layer=1, hidden=32, n_head=2, ff=32, max_pos=16, max_seq=16)
TOKENS = (gen_model.SPECIALS + list(string.ascii_lowercase[:8]) + ["hello", "world", "##s", "##ing"]
          + ["##" + c for c in string.ascii_lowercase[:8]] + [",", ".", "!", "?", "the", "a", "b", "c"])


def write_micro(out, dtype="F32", cross=False):
    gen_model.VOCAB_SIZE = len(TOKENS)
    gen_model.write_tokenizer_files(out, TOKENS, model_max_length=16)
    specs = gen_model.build_specs(MICRO, cross_encoder=cross)
    for s in specs:
        s.dtype = "I64" if s.kind == "position_ids" else dtype
        s.name = gen_model.file_name(s.canon, True, False)
    weights = gen_model.Weights(7, MICRO["hidden"])
    gen_model.write_json(os.path.join(out, "config.json"), gen_model.make_config(MICRO, dtype, cross, 1))
    return gen_model.write_safetensors(os.path.join(out, "model.safetensors"), specs, weights)


def main():
    micro = os.path.join(HERE, "micro")
    write_micro(micro)
    with open(os.path.join(micro, "model.safetensors"), "rb") as f:
        st = f.read()
    seeds = {t: os.path.join(HERE, "seeds", t) for t in
             ("loader", "loader_chunked", "files", "tokenizer", "embed", "json")}
    for d in seeds.values():
        os.makedirs(d, exist_ok=True)

    def put(target, name, data):
        with open(os.path.join(seeds[target], name), "wb") as f:
            f.write(data)

    put("loader", "f32", st)
    put("loader_chunked", "f32-1", b"\x00" + st)
    put("loader_chunked", "f32-61", b"\xff" + st)
    for dt in ("F16", "BF16"):
        tmp = os.path.join(HERE, "seeds", ".tmp-" + dt)
        write_micro(tmp, dt)
        with open(os.path.join(tmp, "model.safetensors"), "rb") as f:
            data = f.read()
        put("loader", dt.lower(), data)
        put("loader_chunked", dt.lower(), b"\x07" + data)
        for name in os.listdir(tmp):
            os.remove(os.path.join(tmp, name))
        os.rmdir(tmp)
    hl = struct.unpack("<Q", st[:8])[0]
    put("embed", "gauss", b"\x02" + st[8 + hl: 8 + hl + 4096])
    put("embed", "nan-inf", b"\x00" + struct.pack("<4f", float("nan"), float("inf"), -1e38, 1e-40) * 8)
    put("json", "header", st[8: 8 + hl])
    for i, name in enumerate(("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json")):
        with open(os.path.join(micro, name), "rb") as f:
            put("files", name.replace("/", "_"), bytes([i]) + f.read())
        with open(os.path.join(micro, name), "rb") as f:
            if name.endswith(".json"):
                put("json", name, f.read())
    texts = ["Hello, world!", "Héllo wörld ﬁ", "你好世界 テスト", "a\u0000b\tc\r\nd",
             "don't stop-believing 3.14", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\u0130stanbul"]
    for i, t in enumerate(texts):
        put("tokenizer", "t%d" % i, t.encode("utf-8"))
    put("tokenizer", "invalid", b"ab\xc3(\xe2\x82\xf0\x9f\x98 x\xff\xfe")
    put("tokenizer", "pair", "what is it?".encode() + b"\xff" + "it is a thing.".encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
