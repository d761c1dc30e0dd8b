"""Rewrites the exported float decoder step graph into a lighter one with the same interface.

    git show a72da89:models/decoder_step.onnx > models/convert/cache/decoder_step-float.onnx   # the float export
    /usr/bin/python3 models/convert/decoder_step.py --float models/convert/cache/decoder_step-float.onnx \
        --out models/decoder_step.onnx

(or take --float straight from models/train/export.py). A beam step reads every weight once for a few
rows, so its time is the bytes it reads: 4.6 MB of float32 in the exported graph, more than the core's
L2. This rewrite
  - folds the word embedding into the LSTM's input weights: a table [vocab, 4H] = embed · Wᵀ + Wb,
    gathered by token, instead of a [B,H]×[H,4H] product (exact up to float rounding);
  - writes the LSTM cell out in plain ops (ONNX gate order i, o, f, c), since the LSTM op needs W;
  - stores the word table as float16 (cast back after the gather; --table-float32 keeps it float32);
  - stores the recurrent matrix and the output layer as int8, symmetric, one scale per --block (64)
    weights of a column, run by ONNX Runtime's MatMulNBits (com.microsoft, 8 bits) at accuracy level 4:
    activations quantized per row and block, so a row's numbers never depend on the rest of the batch.
    --kernel dynamic uses DynamicQuantizeMatMul instead (a little faster, but one activation scale for the
    whole batch, so a caption depends on the beams and images beside it); --float-only and
    --float-recurrent keep float weights, for comparisons.
The inputs (tokens, h, c, img) and outputs (logprobs, h_out, c_out) keep their names and shapes, so the
Go beam search is unchanged. Any change to the numbers needs a dev eval (see models/README.md).
"""

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nbits import quantize


def quantize_columns(w):
    """w [K, N] float -> int8 [K, N], scale [N] (symmetric, per column)."""
    scale = np.abs(w).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--float", dest="src", required=True, help="exported float decoder_step.onnx")
    ap.add_argument("--out", required=True)
    ap.add_argument("--float-only", action="store_true", help="keep float32 weights (table and plain cell only)")
    ap.add_argument("--float-recurrent", action="store_true", help="int8 output layer only")
    ap.add_argument("--kernel", choices=["nbits", "dynamic"], default="nbits")
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--accuracy", type=int, default=4)
    ap.add_argument("--table-float32", action="store_true", help="store the gate table as float32, not float16")
    args = ap.parse_args()

    src = onnx.load(args.src)
    init = {t.name: numpy_helper.to_array(t) for t in src.graph.initializer}
    lstm = next(n for n in src.graph.node if n.op_type == "LSTM")
    gemms = [n for n in src.graph.node if n.op_type == "Gemm"]
    embed = init[next(n for n in src.graph.node if n.op_type == "Gather").input[0]]
    W = init[lstm.input[1]][0]  # [4H, E]
    R = init[lstm.input[2]][0]  # [4H, H]
    B = init[lstm.input[3]][0]  # [8H]: Wb, Rb
    H = R.shape[1]
    head0_w, head0_b = init[gemms[0].input[1]], init[gemms[0].input[2]]  # [H, H] (transB), [H]
    head2_w, head2_b = init[gemms[1].input[1]], init[gemms[1].input[2]]  # [V, H], [V]
    V = head2_w.shape[0]

    table = (embed.astype(np.float64) @ W.T.astype(np.float64) + B[: 4 * H] + B[4 * H :]).astype(np.float32)
    # Token 0 is padding: its embedding row is zero, so its table row is the bias, as in the LSTM.

    if args.table_float32:
        inits = [numpy_helper.from_array(table, "gate_table")]
        nodes = [helper.make_node("Gather", ["gate_table", "tokens"], ["x_gates"], axis=0)]
    else:
        # float16 halves the file (the table is vocab × 4H); only B rows are read per step.
        table = table.astype(np.float16)
        inits = [numpy_helper.from_array(table, "gate_table")]
        nodes = [helper.make_node("Gather", ["gate_table", "tokens"], ["x_gates16"], axis=0),
                 helper.make_node("Cast", ["x_gates16"], ["x_gates"], to=TensorProto.FLOAT)]

    def matmul(name, x, w_kn, bias, out, quant):
        """out = x · w_kn (+ bias), w_kn [K, N]."""
        if quant == "dynamic":
            q, s = quantize_columns(w_kn)
            inits.extend([
                numpy_helper.from_array(q, name + "_q"),
                numpy_helper.from_array(s, name + "_scale"),
                numpy_helper.from_array(np.zeros(q.shape[1], np.int8), name + "_zp"),
            ])
            ins = [x, name + "_q", name + "_scale", name + "_zp"]
            if bias is not None:
                inits.append(numpy_helper.from_array(bias.astype(np.float32), name + "_bias"))
                ins.append(name + "_bias")
            nodes.append(helper.make_node("DynamicQuantizeMatMul", ins, [out], domain="com.microsoft"))
            return
        if quant == "nbits":
            K, N = w_kn.shape
            bs = args.block
            q, scale = quantize(np.ascontiguousarray(w_kn.T), bs)
            inits.extend([
                numpy_helper.from_array(q, name + "_q"),
                numpy_helper.from_array(scale, name + "_scale"),
            ])
            ins = [x, name + "_q", name + "_scale", "", "", ""]
            if bias is not None:
                inits.append(numpy_helper.from_array(bias.astype(np.float32), name + "_bias"))
                ins[5] = name + "_bias"
            while ins[-1] == "":
                ins.pop()
            nodes.append(helper.make_node("MatMulNBits", ins, [out], domain="com.microsoft",
                                          K=K, N=N, bits=8, block_size=bs, accuracy_level=args.accuracy))
            return
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w_kn), name + "_w"))
        if bias is None:
            nodes.append(helper.make_node("MatMul", [x, name + "_w"], [out]))
        else:
            inits.append(numpy_helper.from_array(bias.astype(np.float32), name + "_bias"))
            nodes.append(helper.make_node("Gemm", [x, name + "_w", name + "_bias"], [out]))

    kind = args.kernel
    quant_r = kind if not (args.float_only or args.float_recurrent) else None
    quant_out = kind if not args.float_only else None
    matmul("recurrent", "h", R.T.astype(np.float32), None, "h_gates", quant_r)
    inits.append(numpy_helper.from_array(np.array([H] * 4, np.int64), "gate_split"))
    nodes += [
        helper.make_node("Add", ["x_gates", "h_gates"], ["gates"]),
        helper.make_node("Split", ["gates", "gate_split"], ["g_i", "g_o", "g_f", "g_c"], axis=1),
        helper.make_node("Sigmoid", ["g_i"], ["i"]),
        helper.make_node("Sigmoid", ["g_o"], ["o"]),
        helper.make_node("Sigmoid", ["g_f"], ["f"]),
        helper.make_node("Tanh", ["g_c"], ["cand"]),
        helper.make_node("Mul", ["f", "c"], ["fc"]),
        helper.make_node("Mul", ["i", "cand"], ["ic"]),
        helper.make_node("Add", ["fc", "ic"], ["c_out"]),
        helper.make_node("Tanh", ["c_out"], ["c_tanh"]),
        helper.make_node("Mul", ["o", "c_tanh"], ["h_out"]),
        helper.make_node("Add", ["h_out", "img"], ["merged"]),
    ]
    matmul("head0", "merged", head0_w.T.astype(np.float32), head0_b, "head0_out", False)
    nodes.append(helper.make_node("Relu", ["head0_out"], ["head0_relu"]))
    matmul("head2", "head0_relu", head2_w.T.astype(np.float32), head2_b, "logits", quant_out)
    nodes.append(helper.make_node("LogSoftmax", ["logits"], ["logprobs"], axis=1))

    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "decoder_step",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["b"]),
         helper.make_tensor_value_info("h", f, ["b", H]),
         helper.make_tensor_value_info("c", f, ["b", H]),
         helper.make_tensor_value_info("img", f, ["b", H])],
        [helper.make_tensor_value_info("logprobs", f, ["b", V]),
         helper.make_tensor_value_info("h_out", f, ["b", H]),
         helper.make_tensor_value_info("c_out", f, ["b", H])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="captionbot models/convert/decoder_step.py")
    model.ir_version = src.ir_version
    onnx.checker.check_model(model)
    onnx.save(model, args.out)

    # Check the float rewrite against the exported graph's math, in numpy, on random states.
    rng = np.random.default_rng(0)
    tok = rng.integers(4, V, 5)
    h, c, img = (rng.standard_normal((5, H)).astype(np.float32) * 0.5 for _ in range(3))
    sig = lambda x: 1 / (1 + np.exp(-x))
    g_ref = embed[tok] @ W.T + h @ R.T + B[: 4 * H] + B[4 * H :]
    g_new = table[tok].astype(np.float32) + h @ R.T
    print("gate max |diff| float rewrite:", np.abs(g_ref - g_new).max())
    gi, go, gf, gc = np.split(g_new, 4, axis=1)
    c2 = sig(gf) * c + sig(gi) * np.tanh(gc)
    h2 = sig(go) * np.tanh(c2)
    z = np.maximum((h2 + img) @ head0_w.T + head0_b, 0)
    logits = z @ head2_w.T + head2_b
    q, s = quantize_columns(head2_w.T.astype(np.float32))
    logits_q = z @ (q.astype(np.float32) * s) + head2_b
    print("logit max |diff| per-column int8 output weights (float activations, a rough guide):", np.abs(logits - logits_q).max())
    size = sum(t.nbytes for t in (numpy_helper.to_array(i) for i in inits))
    print(f"{args.out}: {len(nodes)} nodes, {size / 1e6:.1f} MB of weights")


if __name__ == "__main__":
    main()
