"""Exports a trained decoder (RUN_DIR/best.pt) to two ONNX graphs for step-by-step decoding.

    /usr/bin/python3 models/train/export.py --run RUN_DIR --out models/

decoder_init.onnx:  <pooled [N,1280] | spatial [N,7,7,1280]> [, detvec [N,160]]  ->  h [N,H], c [N,H], *static
decoder_step.onnx:  tokens int64 [B], h [B,H], c [B,H], *static  ->  logprobs [B,V], h_out, c_out
`static` are per-image tensors (names listed in decoder.json) that the step needs;
the Go beam search repeats them per beam. vocab.txt is copied beside the graphs.
"""

import argparse
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as models  # noqa: E402


class _Init(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, *xs):
        return self.net.init(*xs)


class _Step(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, tokens, h, c, *static):
        return self.net.step(tokens, h, c, *static)


def load(run):
    cfg = json.load(open(os.path.join(run, "config.json")))
    net = models.build(cfg["kind"], cfg["vocab_size"], **cfg["model_kwargs"])
    net.load_state_dict(torch.load(os.path.join(run, "best.pt"), map_location="cpu"))
    return net.eval(), cfg


def export(run, out):
    net, cfg = load(run)
    os.makedirs(out, exist_ok=True)
    n = 2
    x = torch.zeros(n, 7, 7, 1280) if net.input_name == "spatial" else torch.zeros(n, 1280)
    input_names = list(getattr(net, "input_names", [net.input_name]))
    xs = (x, torch.zeros(n, models.DET_DIM)) if "detvec" in input_names else (x,)
    static_names = list(net.static_names)
    with torch.no_grad():
        st = net.init(*xs)
        torch.onnx.export(
            _Init(net), xs, os.path.join(out, "decoder_init.onnx"), opset_version=13,
            input_names=input_names, output_names=["h", "c"] + static_names,
            dynamic_axes={k: {0: "n"} for k in input_names + ["h", "c"] + static_names})
        tokens = torch.ones(n, dtype=torch.long)
        torch.onnx.export(
            _Step(net), (tokens, st[0], st[1], *st[2:]), os.path.join(out, "decoder_step.onnx"),
            opset_version=13,
            input_names=["tokens", "h", "c"] + static_names, output_names=["logprobs", "h_out", "c_out"],
            dynamic_axes={k: {0: "b"} for k in ["tokens", "h", "c", "logprobs", "h_out", "c_out"] + static_names})
    shutil.copy(os.path.join(run, "vocab.txt"), os.path.join(out, "vocab.txt"))
    meta = dict(kind=cfg["kind"], input=net.input_name, static=static_names, hidden=net.hidden,
                vocab_size=cfg["vocab_size"], max_len=cfg["max_len"])
    if input_names != [net.input_name]:
        meta["inputs"] = input_names  # the init graph's inputs, in order; absent: just `input`
    json.dump(meta, open(os.path.join(out, "decoder.json"), "w"), indent=1)
    print(f"exported {cfg['kind']} decoder to {out}: {meta}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    export(args.run, args.out)


if __name__ == "__main__":
    main()
