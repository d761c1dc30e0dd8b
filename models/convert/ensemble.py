"""Joins K exported decoders into one decoder pair that the Go beam search runs unchanged.

    /usr/bin/python3 models/convert/ensemble.py --member models --member RUN2_EXPORT --member RUN3_EXPORT \
        --combine prob --out OUT_DIR

A member is a folder as models/train/export.py writes it (decoder_init.onnx, decoder_step.onnx, decoder.json,
vocab.txt); its step graph may be the float export or the int8 rewrite of models/convert/decoder_step.py
(rewrite each member first: that script expects one LSTM, so it does not apply to the joined graph). Every
member must have the same kind, inputs, static tensors and vocabulary (seeds of one recipe do).

The joined graphs keep the single decoder's interface, with the members side by side:
  decoder_init.onnx:  <inputs as the members>   ->  h [N,K*H], c [N,K*H], *static (each member's, concatenated
                                                    on the last axis)
  decoder_step.onnx:  tokens [B], h [B,K*H], c [B,K*H], *static  ->  logprobs [B,V], h_out [B,K*H], c_out [B,K*H]
The step splits h, c and the static tensors back into the members' slices, runs every member on its own slice
and joins the log-probabilities:
  --combine prob     log(mean_k p_k), the average of the members' probabilities (each member's final
                     LogSoftmax becomes a Softmax; the mean is floored at 1e-30 before the log);
  --combine logprob  log_softmax(mean_k log p_k), the members' geometric mean, renormalised.
decoder.json says hidden = K*H (the Go search sizes h and c from it; static shapes come from the init graph)
and lists the members. Each member's init and step run as they did alone, so a 1-member "ensemble" gives the
member's own numbers.
"""

import argparse
import json
import math
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STATE = ["h", "c"]


def read_member(path):
    meta = json.load(open(os.path.join(path, "decoder.json")))
    vocab = open(os.path.join(path, "vocab.txt")).read()
    init = onnx.load(os.path.join(path, "decoder_init.onnx"))
    step = onnx.load(os.path.join(path, "decoder_step.onnx"))
    return dict(path=path, meta=meta, vocab=vocab, init=init, step=step)


def renamed(graph, prefix, keep):
    """The graph's nodes and initializers with every name not in `keep` prefixed; returns (nodes, inits)."""
    def r(name):
        return name if name == "" or name in keep else prefix + name

    inits = []
    for t in graph.initializer:
        t2 = onnx.TensorProto()
        t2.CopyFrom(t)
        t2.name = r(t.name)
        inits.append(t2)
    nodes = []
    for i, n in enumerate(graph.node):
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in n.attribute):
            raise SystemExit(f"node {n.name or n.op_type} has a subgraph; not supported")
        n2 = onnx.NodeProto()
        n2.CopyFrom(n)
        n2.name = prefix + (n.name or f"{n.op_type}_{i}")  # node names must be unique
        n2.input[:] = [r(x) for x in n.input]
        n2.output[:] = [r(x) for x in n.output]
        nodes.append(n2)
    return nodes, inits


def opsets(models):
    out = {}
    for m in models:
        for o in m.opset_import:
            out[o.domain] = max(out.get(o.domain, 0), o.version)
    if out.get("", 0) < 13:
        raise SystemExit("members need opset 13 or later (Split with a tensor of widths)")
    return [helper.make_opsetid(d, v) for d, v in sorted(out.items())]


def value_info(graph, name):
    for v in list(graph.input) + list(graph.output):
        if v.name == name:
            return v
    raise SystemExit(f"graph {graph.name} has no input or output {name}")


def dims(v):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "n") for d in v.type.tensor_type.shape.dim]


def join_init(members, static):
    k = len(members)
    first = members[0]["init"].graph
    input_names = [i.name for i in first.input if i.name not in {t.name for t in first.initializer}]
    nodes, inits, outputs = [], [], []
    for j, m in enumerate(members):
        g = m["init"].graph
        ns, its = renamed(g, f"m{j}/", set(input_names))
        nodes += ns
        inits += its
    for name in STATE + static:
        v = value_info(first, name)
        d = dims(v)
        # The step graph's inputs carry the widths (the exported init graph's h and c may be symbolic).
        width = sum(dims(value_info(m["step"].graph, name))[-1] for m in members)
        nodes.append(helper.make_node("Concat", [f"m{j}/{name}" for j in range(k)], [name], axis=len(d) - 1,
                                      name=f"join/{name}"))
        outputs.append(helper.make_tensor_value_info(name, v.type.tensor_type.elem_type, d[:-1] + [width]))
    graph = helper.make_graph(nodes, "decoder_init_ensemble", list(first.input), outputs, inits)
    model = helper.make_model(graph, opset_imports=opsets([m["init"] for m in members]),
                              producer_name="captionbot models/convert/ensemble.py")
    model.ir_version = max(m["init"].ir_version for m in members)
    return model


def join_step(members, static, combine):
    k = len(members)
    first = members[0]["step"].graph
    ins = ["tokens"] + STATE + static
    nodes, inits = [], []
    widths = {}
    for name in STATE + static:
        widths[name] = [dims(value_info(m["step"].graph, name))[-1] for m in members]
        rank = len(dims(value_info(first, name)))
        inits.append(numpy_helper.from_array(np.array(widths[name], np.int64), f"split/{name}_widths"))
        nodes.append(helper.make_node("Split", [name, f"split/{name}_widths"], [f"m{j}/{name}" for j in range(k)],
                                      axis=rank - 1, name=f"split/{name}"))
    for j, m in enumerate(members):
        ns, its = renamed(m["step"].graph, f"m{j}/", {"tokens"})
        nodes += ns
        inits += its
    for name in ("h_out", "c_out"):
        nodes.append(helper.make_node("Concat", [f"m{j}/{name}" for j in range(k)], [name], axis=1, name=f"join/{name}"))
    # Few, cheap join ops: each costs a fixed overhead per step in ONNX Runtime, which a beam step feels.
    if combine == "prob":
        # A member whose log-probabilities come from LogSoftmax gives its probabilities from Softmax instead
        # (else Exp of its output); then log(sum / K), floored so that log never sees 0.
        for j in range(k):
            last = next((n for n in nodes if f"m{j}/logprobs" in n.output), None)
            if last is not None and last.op_type == "LogSoftmax":
                last.op_type = "Softmax"
                last.output[:] = [f"m{j}/probs"]
            else:
                nodes.append(helper.make_node("Exp", [f"m{j}/logprobs"], [f"m{j}/probs"], name=f"join/exp{j}"))
        inits.append(numpy_helper.from_array(np.array(1e-30 * k, np.float32), "join/floor"))
        inits.append(numpy_helper.from_array(np.array(-math.log(k), np.float32), "join/minus_logk"))
        nodes += [
            helper.make_node("Sum", [f"m{j}/probs" for j in range(k)], ["join/sum"], name="join/sum"),
            helper.make_node("Max", ["join/sum", "join/floor"], ["join/floored"], name="join/floor"),
            helper.make_node("Log", ["join/floored"], ["join/logsum"], name="join/log"),
            helper.make_node("Add", ["join/logsum", "join/minus_logk"], ["logprobs"], name="join/mean"),
        ]
    else:
        inits.append(numpy_helper.from_array(np.array(1 / k, np.float32), "join/inv_k"))
        nodes += [
            helper.make_node("Sum", [f"m{j}/logprobs" for j in range(k)], ["join/sum"], name="join/sum"),
            helper.make_node("Mul", ["join/sum", "join/inv_k"], ["join/mean"], name="join/mean"),
            helper.make_node("LogSoftmax", ["join/mean"], ["logprobs"], axis=1, name="join/renorm"),
        ]
    f = TensorProto.FLOAT
    V = members[0]["meta"]["vocab_size"]
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["b"])]
    for name in STATE + static:
        d = dims(value_info(first, name))
        inputs.append(helper.make_tensor_value_info(name, f, ["b"] + d[1:-1] + [sum(widths[name])]))
    H = sum(widths["h"])
    outputs = [helper.make_tensor_value_info("logprobs", f, ["b", V]),
               helper.make_tensor_value_info("h_out", f, ["b", H]),
               helper.make_tensor_value_info("c_out", f, ["b", H])]
    graph = helper.make_graph(nodes, "decoder_step_ensemble", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=opsets([m["step"] for m in members]),
                              producer_name="captionbot models/convert/ensemble.py")
    model.ir_version = max(m["step"].ir_version for m in members)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--member", action="append", required=True, help="folder of one exported decoder (repeat)")
    ap.add_argument("--combine", choices=["prob", "logprob"], default="prob")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    members = [read_member(p) for p in args.member]
    m0 = members[0]
    for m in members[1:]:
        if m["vocab"] != m0["vocab"]:
            raise SystemExit(f"{m['path']}: vocab.txt differs from {m0['path']}")
        for key in ("kind", "input", "inputs", "static", "vocab_size", "max_len"):
            if m["meta"].get(key) != m0["meta"].get(key):
                raise SystemExit(f"{m['path']}: decoder.json {key} differs from {m0['path']}")
    static = list(m0["meta"]["static"])
    init = join_init(members, static)
    step = join_step(members, static, args.combine)
    onnx.checker.check_model(init)
    onnx.checker.check_model(step)
    os.makedirs(args.out, exist_ok=True)
    onnx.save(init, os.path.join(args.out, "decoder_init.onnx"))
    onnx.save(step, os.path.join(args.out, "decoder_step.onnx"))
    shutil.copy(os.path.join(m0["path"], "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    meta = dict(m0["meta"], hidden=sum(m["meta"]["hidden"] for m in members),
                ensemble=dict(members=len(members), combine=args.combine,
                              member_hidden=[m["meta"]["hidden"] for m in members]))
    json.dump(meta, open(os.path.join(args.out, "decoder.json"), "w"), indent=1)
    print(f"{args.out}: {len(members)} members, combine {args.combine}, hidden {meta['hidden']}")


if __name__ == "__main__":
    main()
