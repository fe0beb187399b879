#!/usr/bin/python3
"""Plain-numpy BERT forward pass: an independent reference for bertwasm tests.

Reads config.json + model.safetensors (F32/F16/BF16; with or without the 'bert.' prefix;
LayerNorm weight/bias or gamma/beta) and the sentence-transformers files if present, and
computes, for each sequence of token ids (run one at a time, no padding), in float64:
  last_hidden_state  (n_tokens, hidden)
  embedding          pooled (1_Pooling mode, default mean) and L2-normalized (if modules.json
                     lists Normalize, or if there is no modules.json)
  logits             (num_labels,) when the checkpoint has classifier.weight

Input JSON (file or stdin):
  {"sequences": [{"ids": [101, ...], "type_ids": [0, ...]}, ...]}   (type_ids optional)
  or just a list of id lists: [[101, ...], ...]
Output JSON: {"results": [{"last_hidden_state": [[...]], "embedding": [...], "logits": [...]}, ...]}

usage: ref_numpy.py MODEL_DIR [--in IN.json] [--out OUT.json] [--no-hidden]
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    """Return {name: float64 ndarray} (I64 tensors as int64)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            f.seek(base + a)
            raw = f.read(b - a)
            dt = info["dtype"]
            if dt == "F32":
                v = np.frombuffer(raw, dtype="<f4").astype(np.float64)
            elif dt == "F16":
                v = np.frombuffer(raw, dtype="<f2").astype(np.float64)
            elif dt == "BF16":
                v = (np.frombuffer(raw, dtype="<u2").astype("<u4") << 16).view("<f4").astype(np.float64)
            elif dt == "I64":
                v = np.frombuffer(raw, dtype="<i8").copy()
            else:
                raise ValueError("unsupported dtype %s for %s" % (dt, name))
            out[name] = v.reshape(info["shape"])
    return out


def canonical(name):
    if name.startswith("bert."):
        name = name[5:]
    if name.endswith(".gamma"):
        name = name[:-6] + ".weight"
    elif name.endswith(".beta"):
        name = name[:-5] + ".bias"
    return name


class Bert:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            self.cfg = json.load(f)
        assert self.cfg.get("hidden_act", "gelu") == "gelu"
        self.w = {canonical(k): v for k, v in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
        self.H = self.cfg["hidden_size"]
        self.nh = self.cfg["num_attention_heads"]
        self.L = self.cfg["num_hidden_layers"]
        self.eps = self.cfg.get("layer_norm_eps", 1e-12)
        self.pooling = "mean"
        self.normalize = True
        mpath = os.path.join(model_dir, "modules.json")
        if os.path.exists(mpath):
            with open(mpath, encoding="utf-8") as f:
                modules = json.load(f)
            self.normalize = any(m["type"].endswith("Normalize") for m in modules)
            for m in modules:
                if m["type"].endswith("Pooling"):
                    with open(os.path.join(model_dir, m["path"], "config.json"), encoding="utf-8") as f:
                        pc = json.load(f)
                    if pc.get("pooling_mode_cls_token"):
                        self.pooling = "cls"
                    elif pc.get("pooling_mode_mean_tokens"):
                        self.pooling = "mean"
                    else:
                        raise ValueError("unsupported pooling %r" % pc)

    def layer_norm(self, x, prefix):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def linear(self, x, prefix):
        return x @ self.w[prefix + ".weight"].T + self.w[prefix + ".bias"]

    def forward(self, ids, type_ids=None):
        ids = np.asarray(ids, dtype=np.int64)
        n = len(ids)
        type_ids = np.zeros(n, dtype=np.int64) if type_ids is None else np.asarray(type_ids, dtype=np.int64)
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][np.arange(n)]
             + w["embeddings.token_type_embeddings.weight"][type_ids])
        x = self.layer_norm(x, "embeddings.LayerNorm")
        hd = self.H // self.nh
        erf = np.vectorize(math.erf)
        for i in range(self.L):
            p = "encoder.layer.%d." % i
            q = self.linear(x, p + "attention.self.query").reshape(n, self.nh, hd).transpose(1, 0, 2)
            k = self.linear(x, p + "attention.self.key").reshape(n, self.nh, hd).transpose(1, 0, 2)
            v = self.linear(x, p + "attention.self.value").reshape(n, self.nh, hd).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)              # (nh, n, n)
            s = np.exp(s - s.max(-1, keepdims=True))
            a = s / s.sum(-1, keepdims=True)
            ctx = (a @ v).transpose(1, 0, 2).reshape(n, self.H)
            x = self.layer_norm(self.linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            u = self.linear(x, p + "intermediate.dense")
            g = 0.5 * u * (1.0 + erf(u / math.sqrt(2.0)))            # exact GELU
            x = self.layer_norm(self.linear(g, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def embed(self, hidden):
        e = hidden[0] if self.pooling == "cls" else hidden.mean(0)
        if self.normalize:
            e = e / max(np.linalg.norm(e), 1e-12)
        return e

    def logits(self, hidden):
        if "classifier.weight" not in self.w:
            return None
        pooled = np.tanh(self.linear(hidden[0], "pooler.dense"))
        return self.linear(pooled, "classifier")


def run(model_dir, sequences, hidden=True):
    m = Bert(model_dir)
    results = []
    for seq in sequences:
        if isinstance(seq, dict):
            ids, tids = seq["ids"], seq.get("type_ids")
        else:
            ids, tids = seq, None
        h = m.forward(ids, tids)
        r = {"embedding": m.embed(h).tolist()}
        lg = m.logits(h)
        if lg is not None:
            r["logits"] = lg.tolist()
        if hidden:
            r["last_hidden_state"] = h.tolist()
        results.append(r)
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--in", dest="inp", default="-", help="input JSON file (default stdin)")
    ap.add_argument("--out", default="-", help="output JSON file (default stdout)")
    ap.add_argument("--no-hidden", action="store_true", help="omit last_hidden_state")
    args = ap.parse_args(argv)
    if args.inp == "-":
        data = json.load(sys.stdin)
    else:
        with open(args.inp, encoding="utf-8") as f:
            data = json.load(f)
    seqs = data["sequences"] if isinstance(data, dict) else data
    res = {"results": run(args.model_dir, seqs, hidden=not args.no_hidden)}
    if args.out == "-":
        json.dump(res, sys.stdout)
        sys.stdout.write("\n")
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(res, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
