#!/usr/bin/python3
"""A model folder whose model.safetensors has the real header of a given shape (default
bert-large, F32) followed by a sparse, zero-filled body (truncate): a 1.3 GB file that costs
nothing on disk. For tests that must prove a command reads only the header.

usage: sparse_model.py OUT [--shape bert-large] [--dtype F32]
Prints {"file_size", "header_size"} as JSON.
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen"))
import gen_model as g  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", default="bert-large", choices=sorted(g.SHAPES))
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    a = ap.parse_args()
    shape = g.SHAPES[a.shape]
    g.write_tokenizer_files(a.out, g.load_vocab())
    specs = g.build_specs(shape)
    for s in specs:
        s.dtype = "I64" if s.kind == "position_ids" else a.dtype
        s.name = g.file_name(s.canon, True, False)
    specs = sorted(specs, key=lambda s: (-g.ST_DTYPES[s.dtype][2], s.name))
    hb, total = g.safetensors_header(specs)
    g.write_json(os.path.join(a.out, "config.json"), g.make_config(shape, a.dtype, False, 1))
    g.write_sentence_transformers(a.out, shape["hidden"], shape["max_seq"], "mean")
    path = os.path.join(a.out, "model.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        f.truncate(8 + len(hb) + total)
    print(json.dumps({"file_size": 8 + len(hb) + total, "header_size": 8 + len(hb)}))


if __name__ == "__main__":
    main()
