"""Word detectors (after Fang et al. 2015, "From captions to visual concepts and back"):
for each of the most common caption words, the share of a photo's Flickr8k reference captions
that use it, predicted from the encoder's pooled feature. Grounding uses them to check the
decoder's words that the object detector cannot see ("grass", "snow", "stick").

  python3 models/train/words.py --features models/train/cache/features --flickr ../shared/flickr8k \
      --classes models/train/cache/ref_classes.json --hidden 512 --epochs 7 --out models

ref_classes.json comes from `go run ./models/train/refclasses ../shared/flickr8k/Flickr8k.token.txt`.
Entries "=person", "=dog", ... are COCO classes: the share of references naming the class by any
of its words (package ground's vocabulary).

Writes words.onnx (input "pooled" [N,1280] -> "words" [N,V], probabilities) and words.txt
(one word a line, singular forms), and prints dev average precision per word.
"""

import argparse
import collections
import json
import os
import random

import numpy as np
import torch
import torch.nn as nn

from data import load_captions, load_split

STOP = set("""a an the is are in on of with and to at his her its their while by for from
into onto up down out over near through one two three four five another other some each as
that this it he she they them him who which there s t be being has have does do very
""".split())

IRREGULAR = {"men": "man", "women": "woman", "children": "child", "people": "person",
             "geese": "goose", "mice": "mouse", "feet": "foot", "teeth": "tooth",
             "knives": "knife", "kids": "kid", "puppies": "puppy", "ponies": "pony",
             "babies": "baby", "ladies": "lady", "waves": "wave", "leaves": "leaves",
             "woods": "woods", "glasses": "glasses", "sunglasses": "sunglasses",
             "shorts": "shorts", "pants": "pants", "jeans": "jeans", "goggles": "goggles",
             "stairs": "stairs", "skis": "skis", "bus": "bus", "buses": "bus", "grass": "grass",
             "dress": "dress", "dresses": "dress", "benches": "bench", "boxes": "box",
             "across": "across", "this": "this", "has": "has", "was": "was"}


def singular(w):
    """The same rules as captioner/ground's singular."""
    if w in IRREGULAR:
        return IRREGULAR[w]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and (w.endswith("ches") or w.endswith("shes") or w.endswith("sses") or w.endswith("xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not (w.endswith("ss") or w.endswith("us") or w.endswith("is")):
        return w[:-1]
    return w


def targets(names, caps, words, classes):
    """Per image and word, the share of its references that use the word; for the
    entries "=class", the share that name the COCO class (any of its words)."""
    index = {w: i for i, w in enumerate(words)}
    y = np.zeros((len(names), len(words)), np.float32)
    for r, name in enumerate(names):
        refs = caps[name]
        for ref in refs:
            for w in set(singular(t) for t in ref):
                if w in index:
                    y[r, index[w]] += 1.0 / len(refs)
        for ref_classes in classes.get(name, []):
            for c in set(ref_classes or []):
                if "=" + c in index:
                    y[r, index["=" + c]] += 1.0 / len(classes[name])
    return y


def average_precision(score, truth):
    order = np.argsort(-score)
    t = truth[order]
    if t.sum() == 0:
        return float("nan")
    hits = np.cumsum(t)
    prec = hits / np.arange(1, len(t) + 1)
    return float((prec * t).sum() / t.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True)
    ap.add_argument("--flickr", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", help="JSON {image: [[COCO classes of each reference]]}, from package ground")
    ap.add_argument("--words", type=int, default=400, help="most common words by image count")
    ap.add_argument("--min-images", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=0, help="0: logistic regression; else one hidden layer")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    caps = load_captions(os.path.join(a.flickr, "Flickr8k.token.txt"))
    train = load_split(os.path.join(a.flickr, "Flickr_8k.trainImages.txt"))
    dev = load_split(os.path.join(a.flickr, "Flickr_8k.devImages.txt"))
    with open(os.path.join(a.features, "names.txt")) as f:
        names = [l.strip() for l in f]
    row = {n: i for i, n in enumerate(names)}
    pooled = np.load(os.path.join(a.features, "pooled.npy"), mmap_mode="r")

    df = collections.Counter()
    for n in train:
        df.update(set(singular(t) for ref in caps[n] for t in ref))
    words = [w for w, c in df.most_common() if w not in STOP and c >= a.min_images and len(w) > 1][: a.words]
    classes = {}
    if a.classes:
        with open(a.classes) as f:
            classes = json.load(f)
        cdf = collections.Counter()
        for n in train:
            cdf.update(set(c for ref in classes.get(n, []) for c in (ref or [])))
        words += ["=" + c for c, k in cdf.most_common() if k >= a.min_images]

    xt = torch.from_numpy(np.stack([pooled[row[n]] for n in train]))
    xd = torch.from_numpy(np.stack([pooled[row[n]] for n in dev]))
    yt = torch.from_numpy(targets(train, caps, words, classes))
    yd = targets(dev, caps, words, classes)
    mean, std = xt.mean(0), xt.std(0) + 1e-3

    layers = [nn.Dropout(0.3)]
    if a.hidden:
        layers += [nn.Linear(xt.shape[1], a.hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(a.hidden, len(words))]
    else:
        layers += [nn.Linear(xt.shape[1], len(words))]
    net = nn.Sequential(*layers)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-2)
    lossf = nn.BCEWithLogitsLoss()
    xtn = (xt - mean) / std
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xtn))
        total = 0.0
        for i in range(0, len(perm), 128):
            b = perm[i : i + 128]
            opt.zero_grad()
            loss = lossf(net(xtn[b]), yt[b])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        net.eval()
        with torch.no_grad():
            pd = torch.sigmoid(net((xd - mean) / std)).numpy()
        dev_loss = float(-(yd * np.log(pd + 1e-7) + (1 - yd) * np.log(1 - pd + 1e-7)).mean())
        print(json.dumps({"epoch": epoch + 1, "train_loss": total / len(perm), "dev_loss": dev_loss}), flush=True)

    aps = {w: average_precision(pd[:, i], yd[:, i] >= 0.4) for i, w in enumerate(words)}
    good = [v for v in aps.values() if v == v]
    print(json.dumps({"dev_mAP": float(np.mean(good)), "words": len(words)}))
    for w in ["dog", "person", "grass", "water", "snow", "beach", "ball", "stick", "rock", "street",
              "bike", "horse", "pool", "mountain", "field", "toy", "=person", "=dog", "=sports ball",
              "=bench", "=bicycle", "=couch", "=bed", "man", "woman", "boy", "girl"]:
        if w in aps:
            print(f"  AP {w:10s} {aps[w]:.3f}")

    class Export(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, pooled):
            return torch.sigmoid(self.net((pooled - self.mean) / self.std))

    m = Export().eval()
    os.makedirs(a.out, exist_ok=True)
    torch.onnx.export(m, torch.zeros(1, xt.shape[1]), os.path.join(a.out, "words.onnx"),
                      input_names=["pooled"], output_names=["words"],
                      dynamic_axes={"pooled": {0: "n"}, "words": {0: "n"}}, opset_version=13)
    with open(os.path.join(a.out, "words.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    np.save(os.path.join(a.out, "words_dev_probs.npy"), pd) if os.environ.get("WORDS_SAVE_DEV") else None


if __name__ == "__main__":
    main()
