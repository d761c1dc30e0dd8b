"""Quantizes a float ONNX model to int8 QDQ (static, calibrated): the NanoDet
detector or (--kind encoder) the MobileNetV2 encoder.

    /usr/bin/python3 models/convert/quantize.py --float models/convert/cache/detector-float.onnx \
        --calib ../shared/flickr8k/images --count 48 --out models/detector.onnx
    OMP_NUM_THREADS=1 /usr/bin/python3 models/convert/quantize.py --kind encoder \
        --float models/encoder.onnx --count 300 --out models/encoder-int8.onnx

onnxruntime's own quantization tool is not installable here (no pip), so
this is a small one for this graph, written against the QDQ format that
ONNX Runtime turns into integer kernels (QLinearConv, QLinearLeakyRelu,
QLinearAdd, QLinearConcat, ...):
  - calibration runs the float graph in numpy (a reference executor for the
    handful of ops the converter writes) on training photos (Flickr8k
    train split, never the test photos) and records each tensor's range;
  - activations are uint8, asymmetric, from the ranges (MaxPool and Resize
    outputs reuse their input's parameters, so ONNX Runtime drops their
    Q/DQ pairs); Conv weights are int8, symmetric, per output channel;
    biases int32 at input scale × weight scale;
  - the head's last 1×1 convolutions (class scores and box logits) and
    what follows them stay float: the scores feed a threshold and the box
    logits a softmax, where 8 bits would show.
  - encoder: photos preprocessed by preprocess.py (as the Go side); the
    last 1×1 convolution (spatial map, pooled feature) and the logits stay
    float; Conv → ReLU6 becomes one QLinearConv; ReLU6-aware cross-layer
    equalization first (equalize()), since some MobileNetV2 channels sit
    below one 8-bit step of their tensor's range.

--check DIR compares the numpy executor with the TF.js outputs that
nanodet_tfjs.js wrote (a test of the executor, not of the model).
"""

import argparse
import glob
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from preprocess import preprocess

MEAN = np.array([103.53, 116.28, 123.675], np.float32)
STD = np.array([57.375, 57.12, 58.395], np.float32)


def photo_tensor(path, size):
    img = Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR)
    a = (np.asarray(img, np.float32)[:, :, ::-1] - MEAN) / STD
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None])


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, strides, pads, group=1):
    t, l, bt, r = pads
    x = np.pad(x, ((0, 0), (0, 0), (t, bt), (l, r)))
    o, c, kh, kw = w.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::strides[0], ::strides[1]]
    if group == 1:
        y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # [N,OH,OW,O]
        y = y.transpose(0, 3, 1, 2)
    elif group == o == x.shape[1] and c == 1:  # depthwise
        y = np.einsum("nchwij,cij->nchw", win, w[:, 0], optimize=True)
    else:
        raise ValueError(f"numpy executor: Conv group {group}")
    if b is not None:
        y = y + b[None, :, None, None]
    return np.ascontiguousarray(y, np.float32)


def resize_linear_half_pixel(x, sizes):
    def axis_weights(n_in, n_out):
        scale = n_out / n_in
        src = (np.arange(n_out) + 0.5) / scale - 0.5
        src = np.clip(src, 0, n_in - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        f = (src - i0).astype(np.float32)
        return i0, i1, f
    _, _, h, w = x.shape
    y0, y1, fy = axis_weights(h, int(sizes[2]))
    x0, x1, fx = axis_weights(w, int(sizes[3]))
    rows = x[:, :, y0, :] * (1 - fy)[None, None, :, None] + x[:, :, y1, :] * fy[None, None, :, None]
    return rows[:, :, :, x0] * (1 - fx) + rows[:, :, :, x1] * fx


def run_numpy(model, inputs):
    """Runs the float graph; returns {tensor name: value}."""
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(inputs)
    for n in model.graph.node:
        a = attrs(n)
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Conv":
            out = [conv(x[0], x[1], x[2] if len(x) > 2 else None, a["strides"], a["pads"], a.get("group", 1))]
        elif op == "Constant":
            out = [numpy_helper.to_array(a["value"])]
        elif op == "Clip":
            out = [np.clip(x[0], x[1], x[2])]
        elif op == "ReduceMean":
            out = [x[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))]
        elif op == "Flatten":
            out = [x[0].reshape(x[0].shape[0], -1)]
        elif op == "Softmax":
            e = np.exp(x[0] - x[0].max(axis=a.get("axis", -1), keepdims=True))
            out = [e / e.sum(axis=a.get("axis", -1), keepdims=True)]
        elif op == "LeakyRelu":
            out = [np.where(x[0] >= 0, x[0], x[0] * a["alpha"]).astype(np.float32)]
        elif op == "MaxPool":
            t, l, b, r = a["pads"]
            xp = np.pad(x[0], ((0, 0), (0, 0), (t, b), (l, r)), constant_values=-np.inf)
            kh, kw = a["kernel_shape"]
            s = a["strides"]
            win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s[0], ::s[1]]
            out = [win.max(axis=(4, 5))]
        elif op == "Add":
            out = [x[0] + x[1]]
        elif op == "Concat":
            out = [np.concatenate(x, axis=a["axis"])]
        elif op == "Resize":
            out = [resize_linear_half_pixel(x[0], x[3])]
        elif op == "Split":
            out = np.split(x[0], np.cumsum(x[1])[:-1], axis=a["axis"])
        elif op == "Sigmoid":
            out = [1 / (1 + np.exp(-x[0]))]
        elif op == "Reshape":
            out = [x[0].reshape(x[1])]
        elif op == "Transpose":
            out = [np.transpose(x[0], a["perm"])]
        else:
            raise ValueError(f"numpy executor: no {op}")
        for name, v in zip(n.output, out):
            env[name] = v.astype(np.float32) if v.dtype.kind == "f" else v
    return env


def consumers_of(model):
    consumers = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    return consumers


def head_convs(model):
    """The detector's head's last convolutions: those whose consumers are Splits."""
    consumers = consumers_of(model)
    return [n.output[0] for n in model.graph.node
            if n.op_type == "Conv" and all(c.op_type == "Split" for c in consumers.get(n.output[0], []))]


def last_convs(model):
    """Convolutions with a path to a graph output through no other
    convolution: the encoder's last 1×1 convolution (its output is the
    spatial map and, averaged, the pooled feature) and the logits."""
    producer = {o: n for n in model.graph.node for o in n.output}
    found, seen = [], set()
    stack = [o.name for o in model.graph.output]
    while stack:
        t = stack.pop()
        if t in seen or t not in producer:
            continue
        seen.add(t)
        n = producer[t]
        if n.op_type == "Conv":
            found.append(t)
        else:
            stack.extend(n.input)
    return found


def float_tail(model, starts):
    """Tensors that stay float: the outputs of the convolutions in starts
    and everything computed from them."""
    consumers = consumers_of(model)
    tail = set()
    stack = list(starts)
    while stack:
        t = stack.pop()
        if t in tail:
            continue
        tail.add(t)
        for c in consumers.get(t, []):
            stack.extend(c.output)
    return tail


def uint8_params(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize(model, ranges, wmax=127, tail=(), same_params=("MaxPool", "Resize")):
    """Writes the QDQ graph. tail: tensors left float; same_params: ops
    whose output reuses its input's parameters (pure data movement, so ONNX
    Runtime runs them on the uint8 values). A Conv output whose only
    consumer is a Clip (ReLU6) gets no Q/DQ of its own: ONNX Runtime folds
    Conv, Clip and the Clip output's Q into one QLinearConv when that Q's
    range lies inside the Clip's."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = consumers_of(model)
    params = {}
    # Parameters per activation tensor.
    for n in g.node:
        if n.op_type == "Constant":
            continue
        for o in n.output:
            if o in tail:
                continue
            if n.op_type == "Conv" and [c.op_type for c in consumers.get(o, [])] == ["Clip"]:
                continue
            src = o
            while producer.get(src) is not None and producer[src].op_type in same_params:
                src = producer[src].input[0]
            params[o] = uint8_params(*ranges[src])
    params[g.input[0].name] = uint8_params(*ranges[g.input[0].name])

    new_inits, new_nodes = [], []
    dq_name = {}

    def qdq(t):
        """Q → DQ of activation t; returns the DQ output's name."""
        if t in dq_name:
            return dq_name[t]
        s, zp = params[t]
        sn, zn = t + "_scale", t + "_zp"
        new_inits.extend([numpy_helper.from_array(np.array(s, np.float32), sn),
                          numpy_helper.from_array(np.array(zp, np.uint8), zn)])
        new_nodes.append(helper.make_node("QuantizeLinear", [t, sn, zn], [t + "_q"], name=t + "_Q"))
        new_nodes.append(helper.make_node("DequantizeLinear", [t + "_q", sn, zn], [t + "_dq"], name=t + "_DQ"))
        dq_name[t] = t + "_dq"
        return dq_name[t]

    g_input = g.input[0].name
    qdq(g_input)
    removed = set()
    for n in g.node:
        ins = list(n.input)
        if n.op_type == "Conv":
            x = ins[0]
            w = numpy_helper.to_array(inits[ins[1]])
            wabs = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
            ws = np.where(wabs > 0, wabs / wmax, 1.0)  # an all-zero filter: scale 1, so its bias stays finite
            wq = np.clip(np.round(w / ws[:, None, None, None]), -wmax, wmax).astype(np.int8)
            base = ins[1]
            new_inits.extend([numpy_helper.from_array(wq, base + "_q"),
                              numpy_helper.from_array(ws.astype(np.float32), base + "_scale"),
                              numpy_helper.from_array(np.zeros(len(ws), np.int8), base + "_zp")])
            new_nodes.append(helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zp"],
                                              [base + "_dq"], name=base + "_DQ", axis=0))
            removed.add(ins[1])
            new_ins = [qdq(x) if x in params else x, base + "_dq"]
            if len(ins) > 2 and x in params:  # a float input keeps a float bias
                b = numpy_helper.to_array(inits[ins[2]])
                bs = (params[x][0] * ws).astype(np.float32)
                bq = np.round(b / bs).astype(np.int32)
                bb = ins[2]
                new_inits.extend([numpy_helper.from_array(bq, bb + "_q"),
                                  numpy_helper.from_array(bs, bb + "_scale"),
                                  numpy_helper.from_array(np.zeros(len(bs), np.int32), bb + "_zp")])
                new_nodes.append(helper.make_node("DequantizeLinear", [bb + "_q", bb + "_scale", bb + "_zp"],
                                                  [bb + "_dq"], name=bb + "_DQ", axis=0))
                removed.add(ins[2])
                new_ins.append(bb + "_dq")
            elif len(ins) > 2:
                new_ins.append(ins[2])
            ins = new_ins
        else:
            ins = [qdq(i) if i in params else i for i in ins]
        node = helper.make_node(n.op_type, ins, list(n.output), name=n.name)
        node.attribute.extend(n.attribute)
        new_nodes.append(node)
        for o in n.output:
            if o in params:
                qdq(o)
    # Graph order: a tensor's Q/DQ right after its producer (emitted in that order above).
    keep = [i for i in g.initializer if i.name not in removed]
    graph = helper.make_graph(new_nodes, g.name, list(g.input), list(g.output), keep + new_inits)
    m = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=model.producer_name)
    m.ir_version = model.ir_version
    m.doc_string = model.doc_string + "; int8 QDQ (models/convert/quantize.py)"
    onnx.checker.check_model(m)
    return m


def topo_sorted(model):
    """Sorts nodes so every input is produced before use."""
    g = model.graph
    ready = {i.name for i in g.initializer} | {i.name for i in g.input} | {""}
    nodes, out = list(g.node), []
    while nodes:
        rest = []
        for n in nodes:
            if all(i in ready for i in n.input):
                out.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(nodes):
            raise ValueError("graph has a cycle")
        nodes = rest
    del g.node[:]
    g.node.extend(out)
    return model


def calibrate(model, in_name, photos):
    """Runs the float graph on the photos; returns each tensor's (min, max)
    per photo and, for 4-D tensors, the per-channel maximum over all photos."""
    per_photo, chan_max = {}, {}
    init_names = {i.name for i in model.graph.initializer}
    for k, x in enumerate(photos):
        env = run_numpy(model, {in_name: x})
        for t, v in env.items():
            if v.dtype != np.float32 or v.ndim == 0 or t in init_names:
                continue
            per_photo.setdefault(t, []).append((float(v.min()), float(v.max())))
            if v.ndim == 4:
                m = v.max(axis=(0, 2, 3))
                chan_max[t] = np.maximum(chan_max[t], m) if t in chan_max else m
        print(f"calibrated on {k + 1}/{len(photos)}", flush=True)
    return per_photo, chan_max


def equalize(model, chan_max, cap):
    """Rescales the channels of each Conv → Clip(0, 6) → Conv chain so that
    one uint8 range suits them all (cross-layer equalization, kept exact
    under ReLU6). MobileNetV2 has channels whose activations stay far below
    the tensor's range, below one 8-bit step: quantized to zero, they vanish,
    and the next (depthwise) convolution, with weights up to 56, misses them.
    Channel c of the first Conv is multiplied by s_c = min(T / max_c, cap),
    T the tensor's largest channel maximum over the calibration photos, and
    the next Conv's weights for input channel c are divided by s_c. The
    product is unchanged while s_c·x stays below 6, which holds on the
    calibration photos by construction (s_c·max_c ≤ T ≤ 6)."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    consumers = consumers_of(model)
    changed = 0
    for n in g.node:
        if n.op_type != "Clip" or n.input[0] not in producer or producer[n.input[0]].op_type != "Conv":
            continue
        lo, hi = (float(numpy_helper.to_array(producer[i].attribute[0].t)) if i in producer else None
                  for i in n.input[1:3])
        nxt = consumers.get(n.output[0], [])
        if lo != 0 or hi != 6 or len(nxt) != 1 or nxt[0].op_type != "Conv" or len(producer[n.input[0]].input) < 3:
            continue
        a, b = producer[n.input[0]], nxt[0]
        m = chan_max[n.output[0]]
        t = float(m.max())
        if t <= 0:
            continue
        sc = np.minimum(t / np.maximum(m, t / cap), cap).astype(np.float32)
        wa, ba = (numpy_helper.to_array(inits[i]) for i in a.input[1:3])
        wb = numpy_helper.to_array(inits[b.input[1]])
        wa = wa * sc[:, None, None, None]
        ba = ba * sc
        if wb.shape[1] == 1 and wb.shape[0] == len(sc):  # depthwise: one filter per channel
            wb = wb / sc[:, None, None, None]
        else:
            wb = wb / sc[None, :, None, None]
        for name, v in ((a.input[1], wa), (a.input[2], ba), (b.input[1], wb)):
            inits[name].CopyFrom(numpy_helper.from_array(v.astype(np.float32), name))
        changed += 1
    print(f"equalized {changed} Conv → ReLU6 → Conv chains (cap {cap})", flush=True)


def encoder_tensor(path, size):
    """The encoder's input, [1,224,224,3] (preprocess.py, as the Go side)."""
    return preprocess(path)[None]


KINDS = {
    # NanoDet (nanodet.py): the head's last convolutions and what follows stay float.
    "detector": {"photo": photo_tensor, "float_from": head_convs, "same_params": ("MaxPool", "Resize"),
                 "equalize": False, "out": "models/detector.onnx"},
    # MobileNetV2 (convert.py): the last 1×1 convolution (spatial, pooled) and the logits stay float.
    "encoder": {"photo": encoder_tensor, "float_from": last_convs,
                "same_params": ("MaxPool", "Resize", "Transpose"), "equalize": True,
                "out": "models/encoder-int8.onnx"},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=sorted(KINDS), default="detector",
                    help="which network: its preprocessing and which tensors stay float")
    ap.add_argument("--float", required=True, help="float ONNX model (nanodet.py's or convert.py's output)")
    ap.add_argument("--calib", default="../shared/flickr8k/images")
    ap.add_argument("--split", default="../shared/flickr8k/Flickr_8k.trainImages.txt",
                    help="list of calibration photo names (first --count taken)")
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--out", help="default: models/detector.onnx, models/encoder-int8.onnx")
    ap.add_argument("--ranges", choices=["mean", "minmax"], default="mean",
                    help="activation ranges: the mean over photos of each photo's min and max, or the overall extremes")
    ap.add_argument("--reduce-range", action="store_true",
                    help="7-bit weights (-63..63): no int16 saturation in ONNX Runtime's u8×s8 kernels on "
                         "AVX2/AVX-512 CPUs without VNNI, at some accuracy")
    ap.add_argument("--equalize-cap", type=float, default=16,
                    help="encoder: the largest channel rescaling of equalize() (1: none)")
    ap.add_argument("--check", help="faithfulness dir: compare the numpy executor with TF.js and stop")
    a = ap.parse_args()
    kind = KINDS[a.kind]
    a.out = a.out or kind["out"]
    model = onnx.load(a.float)
    size = model.graph.input[0].type.tensor_type.shape.dim[2].dim_value
    in_name = model.graph.input[0].name
    if a.check:
        for ref in sorted(glob.glob(os.path.join(a.check, "*.tfjs.bin"))):
            x = np.fromfile(ref.replace(".tfjs.bin", ".input.bin"), "<f4").reshape(1, 3, size, size)
            env = run_numpy(model, {in_name: x})
            got = np.concatenate([env["scores"].ravel(), env["boxes"].ravel()])
            want = np.fromfile(ref, "<f4")
            print(f"{os.path.basename(ref)}: numpy executor vs TF.js max |Δ| {np.abs(got - want).max():.2g}")
        return
    names = [ln.strip() for ln in open(a.split) if ln.strip()][: a.count]
    photos = [kind["photo"](os.path.join(a.calib, name), size) for name in names]
    if kind["equalize"] and a.equalize_cap > 1:
        _, chan_max = calibrate(model, in_name, photos)
        equalize(model, chan_max, a.equalize_cap)
    per_photo, _ = calibrate(model, in_name, photos)
    if a.ranges == "minmax":
        ranges = {t: (min(r[0] for r in rs), max(r[1] for r in rs)) for t, rs in per_photo.items()}
    else:  # the mean of the photos' extremes: one outlier photo does not coarsen every other's steps
        ranges = {t: (float(np.mean([r[0] for r in rs])), float(np.mean([r[1] for r in rs])))
                  for t, rs in per_photo.items()}
    q = topo_sorted(quantize(model, ranges, 63 if a.reduce_range else 127,
                             float_tail(model, kind["float_from"](model)), kind["same_params"]))
    onnx.save(q, a.out)
    print(f"wrote {a.out}: {os.path.getsize(a.out) / 1e6:.1f} MB, {len(q.graph.node)} nodes")


if __name__ == "__main__":
    main()
