"""Converts an ImageNet MobileNet TFLite model to a float32 ONNX encoder.

    /usr/bin/python3 models/convert/convert.py \
        --tflite ../shared/encoders/mobilenet_v2_1.0_224_quant.tflite \
        --out models/encoder.onnx

The quantised weights are dequantised (scale * (q - zero_point), per tensor
or per channel), and the graph is rebuilt op by op in PyTorch, in float32
(activations are not re-quantised), then exported with torch.onnx.export.

ONNX interface (batch N is dynamic):
  input  image   float32 [N,224,224,3]  NHWC RGB, pixel/127.5 - 1
  output pooled  float32 [N,1280]       global average of `spatial`
  output spatial float32 [N,7,7,1280]   last feature map before pooling (NHWC)
  output scores  float32 [N,1001]       softmax over ImageNet classes (0 = background)
"""

import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite  # noqa: E402
from flatbuffers import number_types as N  # noqa: E402


def same_padding(size, kernel, stride, dilation=1):
    """TensorFlow's SAME padding for one axis: (before, after)."""
    eff = (kernel - 1) * dilation + 1
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def static_same_padding(nhwc, kernel, stride, dilation):
    """SAME padding (top, left, bottom, right) for a conv input of the TFLite
    model's static shape. The encoder takes 224x224 only, so the pads are
    constants: computing them from the traced tensor's shape would export
    hundreds of Shape/Gather/Sub nodes that ONNX Runtime cannot fold."""
    if len(nhwc) != 4 or min(nhwc[1:]) <= 0:
        raise ValueError(f"conv input shape {nhwc} is not static NHWC")
    top, bottom = same_padding(nhwc[1], kernel[0], stride[0], dilation[0])
    left, right = same_padding(nhwc[2], kernel[1], stride[1], dilation[1])
    return top, left, bottom, right


class PaddedConv(torch.autograd.Function):
    """A convolution with asymmetric zero padding (top, left, bottom, right),
    as TF's SAME gives for stride 2 on even sizes. PyTorch's conv2d pads
    symmetrically, and F.pad exports as a Pad fed by shape arithmetic, so this
    exports as one ONNX Conv with the pads as plain integers."""

    @staticmethod
    def forward(ctx, x, w, b, pad, stride, dil, groups):
        top, left, bottom, right = pad
        return F.conv2d(F.pad(x, (left, right, top, bottom)), w, b, stride=stride, dilation=dil, groups=groups)

    @staticmethod
    def symbolic(g, x, w, b, pad, stride, dil, groups):
        inputs = [x, w] if b is None or b.node().mustBeNone() else [x, w, b]
        return g.op("Conv", *inputs, pads_i=list(pad), strides_i=list(stride), dilations_i=list(dil),
                    group_i=groups, kernel_shape_i=list(w.type().sizes()[2:]))


def activation(x, name):
    if name is None:
        return x
    if name == "RELU":
        return F.relu(x)
    if name == "RELU6":
        return torch.clamp(x, 0.0, 6.0)
    if name == "RELU_N1_TO_1":
        return torch.clamp(x, -1.0, 1.0)
    raise ValueError(f"unsupported activation {name}")


class Encoder(torch.nn.Module):
    """Runs a TFLite MobileNet graph in float32 (NCHW inside, NHWC at the edges)."""

    def __init__(self, model):
        super().__init__()
        self.m = model
        self.steps = []
        self.spatial_id = None  # last 4-D tensor that feeds the global pool
        params = {}
        for k, op in enumerate(model.operators):
            t = model.tensors
            if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w = t[op.inputs[1]].dequantized()
                b = t[op.inputs[2]].dequantized() if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
                if op.op == "CONV_2D":
                    w = w.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                    groups = 1
                    act = tflite.ACTIVATIONS[op.option(3, N.Int8Flags)]
                    stride = (op.option(2, N.Int32Flags, 1), op.option(1, N.Int32Flags, 1))
                    dil = (op.option(5, N.Int32Flags, 1), op.option(4, N.Int32Flags, 1))
                else:
                    w = w.transpose(3, 0, 1, 2)  # 1HWC -> C1HW
                    groups = w.shape[0]
                    act = tflite.ACTIVATIONS[op.option(4, N.Int8Flags)]
                    stride = (op.option(2, N.Int32Flags, 1), op.option(1, N.Int32Flags, 1))
                    dil = (op.option(6, N.Int32Flags, 1), op.option(5, N.Int32Flags, 1))
                pad = (0, 0, 0, 0)
                if tflite.PADDINGS[op.option(0, N.Int8Flags)] == "SAME":
                    pad = static_same_padding(t[op.inputs[0]].shape, w.shape[2:], stride, dil)
                name = f"w{k}"
                params[name] = torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(w)), requires_grad=False)
                if b is not None:
                    params[f"b{k}"] = torch.nn.Parameter(torch.from_numpy(b), requires_grad=False)
                self.steps.append(("conv", k, dict(groups=groups, act=act, stride=stride, dil=dil, pad=pad,
                                                   kernel=w.shape[2:], bias=b is not None)))
            elif op.op == "ADD":
                self.steps.append(("add", k, dict(act=tflite.ACTIVATIONS[op.option(0, N.Int8Flags)])))
            elif op.op in ("AVERAGE_POOL_2D", "MEAN"):
                self.spatial_id = op.inputs[0]
                self.steps.append(("pool", k, {}))
            elif op.op == "RESHAPE":
                self.steps.append(("flatten", k, {}))
            elif op.op in ("SOFTMAX", "QUANTIZE", "DEQUANTIZE"):
                self.steps.append(("identity" if op.op != "SOFTMAX" else "logits", k, {}))
            else:
                raise ValueError(f"unsupported op {op.op}")
        self.params = torch.nn.ParameterDict(params)

    def forward(self, image):
        t = self.m.tensors
        values = {self.m.inputs[0]: image.permute(0, 3, 1, 2)}
        logits = None
        for kind, k, a in self.steps:
            op = self.m.operators[k]
            x = values[op.inputs[0]]
            if kind == "conv":
                w, b = self.params[f"w{k}"], self.params[f"b{k}"] if a["bias"] else None
                top, left, bottom, right = a["pad"]
                if (top, left) == (bottom, right):
                    y = F.conv2d(x, w, b, stride=a["stride"], padding=(top, left), dilation=a["dil"],
                                 groups=a["groups"])
                else:
                    y = PaddedConv.apply(x, w, b, a["pad"], a["stride"], a["dil"], a["groups"])
                y = activation(y, a["act"])
            elif kind == "add":
                y = activation(x + values[op.inputs[1]], a["act"])
            elif kind == "pool":
                y = x.mean(dim=(2, 3), keepdim=True)
            elif kind == "flatten":
                y = torch.flatten(x, 1)
            elif kind == "logits":
                logits = x
                y = x
            else:
                y = x
            values[op.outputs[0]] = y
        spatial = values[self.spatial_id]
        pooled = spatial.mean(dim=(2, 3))
        return pooled, spatial.permute(0, 2, 3, 1), torch.softmax(logits, dim=1)


def preprocess(path):
    """The reference preprocessing: RGB, squash to 224x224 (bilinear), pixel/127.5 - 1."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    if img.size != (224, 224):
        img = img.resize((224, 224), Image.BILINEAR)
    return (np.asarray(img, dtype=np.float32) / 127.5 - 1.0)[None]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tflite", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--labels", help="labels file, to print top-5 for --check images")
    ap.add_argument("--check", nargs="*", default=[], help="images to classify after conversion")
    args = ap.parse_args()

    enc = Encoder(tflite.Model(args.tflite)).eval()
    dummy = torch.zeros(1, 224, 224, 3)
    with torch.no_grad():
        torch.onnx.export(
            enc, dummy, args.out, opset_version=13, do_constant_folding=True,
            input_names=["image"], output_names=["pooled", "spatial", "scores"],
            dynamic_axes={"image": {0: "n"}, "pooled": {0: "n"}, "spatial": {0: "n"}, "scores": {0: "n"}},
        )
    model = onnx.load(args.out)
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    shape_ops = {"Pad", "Shape", "Gather", "ConstantOfShape"} & set(ops)
    if shape_ops:
        sys.exit(f"{args.out} still has {', '.join(sorted(shape_ops))} nodes: padding is not static")
    print(f"{len(model.graph.node)} nodes: {', '.join(ops)}")
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
    labels = open(args.labels).read().splitlines() if args.labels else None
    for path in args.check:
        with torch.no_grad():
            _, _, scores = enc(torch.from_numpy(preprocess(path)))
        top = torch.topk(scores[0], 5)
        names = [labels[i] if labels else str(i) for i in top.indices.tolist()]
        print(os.path.basename(path), ", ".join(f"{n} {s:.3f}" for n, s in zip(names, top.values.tolist())))


if __name__ == "__main__":
    main()
