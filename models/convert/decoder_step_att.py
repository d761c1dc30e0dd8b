"""Writes the soft-attention decoder's step graph lean: fewer, larger products, int8 weights.

    /usr/bin/python3 models/convert/decoder_step_att.py --run RUN_DIR --out models/decoder_step.onnx \
        [--init-out models/decoder_init.onnx] [--float]

RUN_DIR is a `train.py --kind att` run (config.json, best.pt). The graph has the inputs and outputs that
train/export.py gives the step (tokens int64 [b], h [b,H], c [b,H], keys [b,49,A], values [b,49,H] ->
logprobs [b,V], h_out, c_out), so decoder.json, the init graph and the Go search stay as exported. It computes
the same function as Attention.step in train/model.py, rearranged:

- the three products of h (attention query, context gate, the LSTM's recurrent weights) are one product with
  their weights stacked, split after; so are the two products of the context (the LSTM's input weights for the
  context and the output layer's weights for it, which train/model.py applies to a concatenation);
- the word embedding times the LSTM's input weights for the word is a table gathered by token (float16, as
  convert/decoder_step.py stores the merge decoder's);
- the attention scores' bias is dropped (a constant added to every position does not change a softmax), and
  the weighted sum of the values is a batched MatMul of the weights [b,1,49] with the values [b,49,H] instead
  of a broadcast product and a sum;
- every product is ONNX Runtime's MatMulNBits (com.microsoft, 8 bits, symmetric, one scale per --block weights
  of an output column, accuracy level 4: activations are quantized per row and block, so a beam's numbers
  never depend on the other rows of the batch), the scheme of decoder_step.py and decoder_step_gemm.py.

--init-out also writes the init graph (spatial [n,7,7,F] -> h, c, keys, values) with its products as
MatMulNBits: the map's projection to the values (49 x F x H per photo) is most of its time. h and c come from
one product of the mean value, split.

--float keeps float32 weights, plain MatMuls and a float32 table: the rearrangement alone, for checking the
graph against the exported one (models/README.md, Caption decoder).
"""

import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from nbits import quantize


class Graph:
    def __init__(self, args):
        self.args = args
        self.nodes, self.inits = [], []
        self.n = 0

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, ins, outs=None, domain=None, **attrs):
        if outs is None:
            self.n += 1
            outs = [f"{op.lower()}_{self.n}"]
        self.nodes.append(helper.make_node(op, ins, outs, domain=domain, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def linear(self, x, name, w, b=None):
        """x [b, K] times w [N, K] transposed, plus b [N]."""
        w = np.ascontiguousarray(w, dtype=np.float32)
        n, k = w.shape
        if self.args.float:
            y = self.node("MatMul", [x, self.const(name + "_wt", np.ascontiguousarray(w.T))])
            return y if b is None else self.node("Add", [y, self.const(name + "_b", b.astype(np.float32))])
        if k % self.args.block:
            raise SystemExit(f"{name}: K={k} is not a multiple of --block {self.args.block}")
        q, s = quantize(w, self.args.block)
        ins = [x, self.const(name + "_q", q), self.const(name + "_scale", s)]
        if b is not None:
            ins += ["", "", self.const(name + "_b", b.astype(np.float32))]
        return self.node("MatMulNBits", ins, domain="com.microsoft", K=k, N=n, bits=8,
                         block_size=self.args.block, accuracy_level=self.args.accuracy)

    def split(self, x, sizes):
        outs = [f"split_{self.n + 1}_{i}" for i in range(len(sizes))]
        self.n += 1
        return self.node("Split", [x, self.const(f"split_{self.n}_sizes", np.array(sizes, np.int64))], outs, axis=1)


def build(sd, args):
    a = lambda k: sd[k].detach().cpu().numpy().astype(np.float32)  # noqa: E731
    embed, w_ih, b_ih, w_hh, b_hh = a("embed.weight"), a("cell.weight_ih"), a("cell.bias_ih"), a("cell.weight_hh"), a("cell.bias_hh")
    hid, emb = w_hh.shape[1], embed.shape[1]
    att = a("query.weight").shape[0]
    vocab = embed.shape[0]
    g = Graph(args)

    # h: attention query, context gate and recurrent gates in one product.
    hq = g.linear("h", "h_all",
                  np.concatenate([a("query.weight"), a("gate.weight"), w_hh]),
                  np.concatenate([a("query.bias"), a("gate.bias"), b_hh]))
    q, gate_pre, hh = g.split(hq, [att, hid, 4 * hid])

    # Attention: scores without their bias, softmax over the 49 regions, weighted sum as a MatMul.
    t = g.node("Tanh", [g.node("Add", ["keys", g.node("Unsqueeze", [q, g.const("axis1", np.array([1], np.int64))])])])
    score_w = np.ascontiguousarray(a("score.weight").T)  # [A, 1]
    s = g.node("MatMul", [t, g.const("score_w", score_w)])  # [b, 49, 1]
    s = g.node("Reshape", [s, g.const("shape_b1r", np.array([0, 1, -1], np.int64))])  # [b, 1, 49]
    alpha = g.node("Softmax", [s], axis=-1)
    ctx = g.node("MatMul", [alpha, "values"])  # [b, 1, H]
    ctx = g.node("Reshape", [ctx, g.const("shape_bh", np.array([0, -1], np.int64))])
    ctx = g.node("Mul", [ctx, g.node("Sigmoid", [gate_pre])])

    # The context's two products: the cell's input gates and the output layer's half.
    pre_w, pre_b = a("pre.weight"), a("pre.bias")
    xc = g.linear(ctx, "ctx_all", np.concatenate([w_ih[:, emb:], pre_w[:, hid:]]), np.concatenate([b_ih, pre_b]))
    ctx_gates, pre_ctx = g.split(xc, [4 * hid, emb])

    # The word's gates from a table.
    table = embed.astype(np.float64) @ w_ih[:, :emb].T.astype(np.float64)
    if args.float:
        word = g.node("Gather", [g.const("word_table", table.astype(np.float32)), "tokens"], axis=0)
    else:
        word = g.node("Cast", [g.node("Gather", [g.const("word_table", table.astype(np.float16)), "tokens"], axis=0)],
                      to=TensorProto.FLOAT)
    gates = g.node("Add", [g.node("Add", [word, ctx_gates]), hh])
    i, f, gg, o = g.split(gates, [hid] * 4)
    c2 = g.node("Add", [g.node("Mul", [g.node("Sigmoid", [f]), "c"]),
                        g.node("Mul", [g.node("Sigmoid", [i]), g.node("Tanh", [gg])])], ["c_out"])
    h2 = g.node("Mul", [g.node("Sigmoid", [o]), g.node("Tanh", [c2])], ["h_out"])

    # Output layers.
    p = g.node("Tanh", [g.node("Add", [g.linear(h2, "pre_h", pre_w[:, :hid]), pre_ctx])])
    logits = g.linear(p, "out", a("out.weight"), a("out.bias"))
    g.node("LogSoftmax", [logits], ["logprobs"], axis=-1)

    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["b"]),
              helper.make_tensor_value_info("h", f32, ["b", hid]),
              helper.make_tensor_value_info("c", f32, ["b", hid]),
              helper.make_tensor_value_info("keys", f32, ["b", 49, att]),
              helper.make_tensor_value_info("values", f32, ["b", 49, hid])]
    outputs = [helper.make_tensor_value_info("logprobs", f32, ["b", vocab]),
               helper.make_tensor_value_info("h_out", f32, ["b", hid]),
               helper.make_tensor_value_info("c_out", f32, ["b", hid])]
    return finish(g, "decoder_step_att", inputs, outputs, args)


def build_init(sd, args):
    a = lambda k: sd[k].detach().cpu().numpy().astype(np.float32)  # noqa: E731
    wv = a("values_proj.weight")  # [H, F]
    hid, feat = wv.shape
    att = a("keys_proj.weight").shape[0]
    g = Graph(args)
    x = g.node("Reshape", ["spatial", g.const("shape_regions", np.array([0, 49, feat], np.int64))])
    g.node("Relu", [g.linear(x, "values_proj", wv, a("values_proj.bias"))], ["values"])
    g.node("Identity", [g.linear("values", "keys_proj", a("keys_proj.weight"), a("keys_proj.bias"))], ["keys"])
    m = g.node("ReduceMean", ["values"], axes=[1], keepdims=0)
    hc = g.linear(m, "init_hc", np.concatenate([a("init_h.weight"), a("init_c.weight")]),
                  np.concatenate([a("init_h.bias"), a("init_c.bias")]))
    h, c = g.split(hc, [hid, hid])
    g.node("Tanh", [h], ["h"])
    g.node("Tanh", [c], ["c"])
    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("spatial", f32, ["n", 7, 7, feat])]
    outputs = [helper.make_tensor_value_info("h", f32, ["n", hid]),
               helper.make_tensor_value_info("c", f32, ["n", hid]),
               helper.make_tensor_value_info("keys", f32, ["n", 49, att]),
               helper.make_tensor_value_info("values", f32, ["n", 49, hid])]
    return finish(g, "decoder_init_att", inputs, outputs, args)


def finish(g, name, inputs, outputs, args):
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    opsets = [helper.make_opsetid("", 13)]
    if not args.float:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="captionbot decoder_step_att.py")
    model.ir_version = 8
    return model


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)
    size = sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)
    print(f"{path}: {len(model.graph.node)} nodes, {size / 1e6:.1f} MB of weights")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="train.py --kind att run folder (config.json, best.pt)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--init-out", help="also write the init graph here")
    ap.add_argument("--float", action="store_true", help="float32 weights (for checking the rearrangement)")
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--accuracy", type=int, default=4)
    args = ap.parse_args()
    cfg = json.load(open(os.path.join(args.run, "config.json")))
    if cfg["kind"] != "att":
        raise SystemExit(f"{args.run} is a {cfg['kind']} run; this rewrite is for --kind att")
    sd = torch.load(os.path.join(args.run, "best.pt"), map_location="cpu")
    save(build(sd, args), args.out)
    if args.init_out:
        save(build_init(sd, args), args.init_out)


if __name__ == "__main__":
    main()
