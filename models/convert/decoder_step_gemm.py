"""Rewrites every float Gemm of an exported decoder step graph as an 8-bit MatMulNBits, for any decoder kind.

    /usr/bin/python3 models/convert/decoder_step_gemm.py --float RUN_EXPORT/decoder_step.onnx --out models/decoder_step.onnx

convert/decoder_step.py is written for the merge graph (it needs its LSTM op and head). This one is generic:
each Gemm whose weight is a constant [N, K] with transB=1 (how torch exports nn.Linear) becomes ONNX Runtime's
MatMulNBits (com.microsoft, 8 bits, symmetric, one scale per --block weights of an output column, accuracy
level 4: activations quantized per row and block, so a beam's numbers never depend on the rest of the batch),
the same scheme as decoder_step.py. The word embedding stays a float Gather; with --gate-table (attention graph
only) it is first folded into the word half of the LSTM cell's input weights, a float32 table [vocab, 4H] =
embed · W_wordᵀ + b_ih gathered by token, as decoder_step.py does for the merge graph (exact up to rounding). Inputs and outputs keep their
names and shapes. Written for the soft-attention decoder (`train.py --kind att`, models/README.md); any new
graph needs its own dev eval.
"""

import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

from nbits import quantize


def fold_gate_table(g, weight="net.cell.weight_ih", bias="net.cell.bias_ih"):
    """Replaces Gemm(Concat(Gather(embed, tokens), ctx), W, b) by Gather(table, tokens) + Gemm(ctx, W_ctx)."""
    arr = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    gemm = next(n for n in g.node if n.op_type == "Gemm" and n.input[1] == weight)
    cat = next(n for n in g.node if n.output[0] == gemm.input[0] and n.op_type == "Concat")
    gat = next(n for n in g.node if n.output[0] == cat.input[0] and n.op_type == "Gather")
    embed, w, b = arr[gat.input[0]], arr[weight], arr[bias]
    e = embed.shape[1]
    table = (embed.astype(np.float64) @ w[:, :e].T.astype(np.float64) + b).astype(np.float32)
    g.initializer.extend([numpy_helper.from_array(table, "gate_table"),
                          numpy_helper.from_array(np.ascontiguousarray(w[:, e:]), "ctx_w")])
    nodes = []
    for n in g.node:
        if n is gemm:
            nodes += [helper.make_node("Gather", ["gate_table", gat.input[1]], ["x_gates"], axis=0),
                      helper.make_node("Gemm", [cat.input[1], "ctx_w"], ["ctx_gates"], transB=1),
                      helper.make_node("Add", ["x_gates", "ctx_gates"], list(gemm.output))]
        elif n is not cat and n is not gat:
            nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--float", dest="src", required=True, help="exported float decoder_step.onnx")
    ap.add_argument("--out", required=True)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--accuracy", type=int, default=4)
    ap.add_argument("--gate-table", action="store_true",
                    help="fold the word embedding into the attention cell's input weights first")
    args = ap.parse_args()

    model = onnx.load(args.src)
    g = model.graph
    if args.gate_table:
        fold_gate_table(g)
    init = {t.name: t for t in g.initializer}
    nodes, replaced = [], set()
    for n in g.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        plain = (n.op_type == "Gemm" and a.get("transB") == 1 and not a.get("transA")
                 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0 and n.input[1] in init)
        if not plain:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(init[n.input[1]]).astype(np.float32)  # [N, K]
        N, K = w.shape
        bs = args.block
        if K % bs:
            nodes.append(n)
            continue
        q, scale = quantize(w, bs)
        name = n.input[1].replace(".", "_").replace(":", "_")
        g.initializer.extend([numpy_helper.from_array(q, name + "_q"),
                              numpy_helper.from_array(scale, name + "_scale")])
        ins = [n.input[0], name + "_q", name + "_scale"]
        if len(n.input) > 2 and n.input[2]:
            ins += ["", "", n.input[2]]  # bias is MatMulNBits' sixth input
        nodes.append(helper.make_node("MatMulNBits", ins, list(n.output), domain="com.microsoft",
                                      K=K, N=N, bits=8, block_size=bs, accuracy_level=args.accuracy))
        replaced.add(n.input[1])
        print(f"int8 {n.input[1]} [{N}, {K}]")
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    size = sum(numpy_helper.to_array(t).nbytes for t in g.initializer)
    print(f"{args.out}: {len(replaced)} Gemms as int8, {len(g.node)} nodes, {size / 1e6:.1f} MB of weights")


if __name__ == "__main__":
    main()
