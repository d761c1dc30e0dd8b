"""Writes a tiny, randomly initialised (seeded) merge decoder conditioned on the detector vector, for the Go
tests of a decoder with a second init input (captioner/testdata/decoder-det):

    /usr/bin/python3 models/train/tiny_decoder.py --out captioner/testdata/decoder-det

With --plain (and --seed N) it is a tiny merge decoder without the vector, a member of the tiny ensemble
(captioner/testdata/decoder-ens, see models/convert/ensemble.py):

    /usr/bin/python3 models/train/tiny_decoder.py --plain --seed 1 --out captioner/testdata/decoder-ens/m1

Its captions mean nothing; the tests check the plumbing (inputs, shapes, that the vector reaches the graph).
"""

import argparse
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import export  # noqa: E402
import model as models  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plain", action="store_true", help="no detector vector")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    vocab = data.Vocab(data.SPECIALS + ["a", "dog", "cat", "runs", "on", "the", "grass", "man", "sits"])
    kw = dict(emb=8, hidden=8, dropout=0.5, det=not args.plain)
    net = models.build("merge", len(vocab), **kw)
    if not args.plain:
        with torch.no_grad():
            net.det_proj.weight.mul_(20)  # so that the vector visibly moves the projection
    with tempfile.TemporaryDirectory() as run:
        vocab.save(os.path.join(run, "vocab.txt"))
        torch.save(net.state_dict(), os.path.join(run, "best.pt"))
        json.dump(dict(kind="merge", vocab_size=len(vocab), model_kwargs=kw, max_len=20),
                  open(os.path.join(run, "config.json"), "w"))
        export.export(run, args.out)


if __name__ == "__main__":
    main()
