#!/usr/bin/python3
"""Dynamic int8 quantization of an f32 BERT ONNX export (benchmark reference).

Rewrites onnx/model.onnx (as written by tests/gen/gen_model.py --onnx) into the kind of
graph that transformers.js loads as `onnx/model_quantized.onnx` (its `dtype: 'q8'`), the
output of onnxruntime's dynamic quantization:

  MatMul(x, W)       ->  DynamicQuantizeLinear(x) -> (xq uint8, xs, xzp)
  W: f32 initializer     MatMulInteger(xq, Wq int8, xzp, Wzp) -> int32
                         Cast(float) * (xs * Ws)
  Gather(E, ids)     ->  Gather(Eq int8, ids) -> DequantizeLinear(Es)

Weights are symmetric int8 (zero point 0), one scale per tensor or, with --per-channel,
one per output column. An activation feeding several MatMuls (query/key/value) is
quantized once, as onnxruntime's quantizer does. Activation x activation MatMuls
(attention scores, context) stay f32, as in onnxruntime's dynamic mode.

onnxruntime fuses the DynamicQuantizeLinear/MatMulInteger/Cast/Mul chain into its
DynamicQuantizeMatMul kernel at session creation, on the wasm build as on native.

usage: quantize_onnx.py IN.onnx OUT.onnx [--per-channel] [--check]
Run with /usr/bin/python3 (needs numpy and onnx).
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper as nh
from onnx import TensorProto, helper


def quantize_sym(w, axis=None):
    """Symmetric int8: q = round(w / s) in [-127, 127]; s = max|w| / 127 (per tensor or per column)."""
    if axis is None:
        amax = np.float32(np.max(np.abs(w)))
        s = np.float32(amax / 127.0) if amax > 0 else np.float32(1.0)
        q = np.clip(np.rint(w / s), -127, 127).astype(np.int8)
        return q, np.array(s, dtype=np.float32)
    amax = np.max(np.abs(w), axis=axis).astype(np.float32)
    s = np.where(amax > 0, amax / np.float32(127.0), np.float32(1.0)).astype(np.float32)
    q = np.clip(np.rint(w / np.expand_dims(s, axis)), -127, 127).astype(np.int8)
    return q, s


def quantize_model(model, per_channel=False, min_gather_elems=4096):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    arrays = {}

    def arr(name):
        if name not in arrays:
            arrays[name] = nh.to_array(inits[name])
        return arrays[name]

    def is_f32_init(name, ndim=2):
        t = inits.get(name)
        return t is not None and t.data_type == TensorProto.FLOAT and len(t.dims) == ndim

    new_nodes = []
    new_inits = []
    drop = set()
    act_q = {}          # activation name -> (xq, xs, xzp): quantize each activation once
    stats = {"matmul": 0, "gather": 0, "bytes_f32": 0, "bytes_q": 0}
    used_elsewhere = {}
    for n in g.node:
        for i in n.input:
            used_elsewhere[i] = used_elsewhere.get(i, 0) + 1

    def add_init(a, name):
        new_inits.append(nh.from_array(a, name))
        return name

    for n in g.node:
        if n.op_type == "MatMul" and is_f32_init(n.input[1]) and not is_f32_init(n.input[0], None):
            x, wname = n.input[0], n.input[1]
            w = arr(wname)                                   # (K, N)
            q, s = quantize_sym(w, axis=0 if per_channel else None)
            base = wname
            wq = add_init(q, base + "_quantized")
            ws = add_init(s, base + "_scale")
            wz = add_init(np.zeros(s.shape, dtype=np.int8), base + "_zero_point")
            stats["matmul"] += 1
            stats["bytes_f32"] += w.nbytes
            stats["bytes_q"] += q.nbytes + s.nbytes
            if x not in act_q:
                act_q[x] = (x + "_quantized", x + "_scale", x + "_zero_point")
                new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(act_q[x]),
                                                  name=x + "_QuantizeLinear"))
            xq, xs, xz = act_q[x]
            out = n.output[0]
            mmi = out + "_output_quantized"
            new_nodes.append(helper.make_node("MatMulInteger", [xq, wq, xz, wz], [mmi],
                                              name=n.name + "_quant" if n.name else out + "_MatMulInteger"))
            cast = mmi + "_cast"
            new_nodes.append(helper.make_node("Cast", [mmi], [cast], to=TensorProto.FLOAT,
                                              name=out + "_cast"))
            sc = out + "_scales_mul"
            new_nodes.append(helper.make_node("Mul", [xs, ws], [sc], name=out + "_scales_mul"))
            new_nodes.append(helper.make_node("Mul", [cast, sc], [out], name=out + "_output_scale_mul"))
            drop.add(wname)
            continue
        if (n.op_type == "Gather" and is_f32_init(n.input[0])
                and int(np.prod(inits[n.input[0]].dims)) >= min_gather_elems):
            ename = n.input[0]
            e = arr(ename)
            q, s = quantize_sym(e)
            eq = add_init(q, ename + "_quantized")
            es = add_init(s, ename + "_scale")
            ez = add_init(np.zeros((), dtype=np.int8), ename + "_zero_point")
            stats["gather"] += 1
            stats["bytes_f32"] += e.nbytes
            stats["bytes_q"] += q.nbytes + s.nbytes
            out = n.output[0]
            gq = out + "_quantized"
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            new_nodes.append(helper.make_node("Gather", [eq, n.input[1]], [gq], name=out + "_gather_q", **attrs))
            new_nodes.append(helper.make_node("DequantizeLinear", [gq, es, ez], [out], name=out + "_dequant"))
            drop.add(ename)
            continue
        new_nodes.append(n)

    # an initializer replaced by its quantized twin is dropped only when nothing else reads it
    still_used = set()
    for n in new_nodes:
        still_used.update(n.input)
    keep = [t for t in g.initializer if not (t.name in drop and t.name not in still_used)]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    # DynamicQuantizeLinear/MatMulInteger are in the default domain since opset 11; keep opset 17
    model.producer_name = "bertwasm-quantize_onnx"
    return stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--per-channel", action="store_true", help="one weight scale per output column")
    ap.add_argument("--check", action="store_true", help="run onnx.checker on the result")
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args(argv)

    model = onnx.load(a.input, load_external_data=True)
    stats = quantize_model(model, per_channel=a.per_channel)
    if stats["matmul"] == 0:
        print("quantize_onnx: no MatMul with an f32 weight initializer in %s" % a.input, file=sys.stderr)
        return 1
    size = model.ByteSize()
    if size >= (2 << 30) - (1 << 20):
        print("quantize_onnx: quantized model still over the 2 GB protobuf limit (%d bytes)" % size, file=sys.stderr)
        return 1
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, a.output)
    if a.check:
        onnx.checker.check_model(a.output)
    if not a.quiet:
        print("quantize_onnx: %s: %d MatMul, %d Gather quantized (%s), weights %.1f MB -> %.1f MB, file %.1f MB"
              % (a.output, stats["matmul"], stats["gather"], "per-channel" if a.per_channel else "per-tensor",
                 stats["bytes_f32"] / 1e6, stats["bytes_q"] / 1e6, os.path.getsize(a.output) / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
