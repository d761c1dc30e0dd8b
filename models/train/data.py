"""Flickr8k captions: cleaning, vocabulary, and encoded caption arrays."""

import collections
import os
import re

import numpy as np

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = [PAD, START, END, UNK]

_punct = re.compile(r"[^\w\s]")


def clean(caption):
    """Lowercase, strip punctuation, drop tokens containing digits. Stop words stay."""
    words = _punct.sub(" ", caption.lower()).split()
    return [w for w in words if not any(ch.isdigit() for ch in w) and w != "_"]


def load_captions(path):
    """Reads Flickr8k.token.txt into {image: [tokens, ...]}, skipping malformed keys."""
    caps = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "\t" not in line:
                continue
            key, text = line.rstrip("\n").split("\t", 1)
            name, _, k = key.partition("#")
            if not name.endswith(".jpg") or not k.isdigit():
                continue
            caps[name].append(clean(text))
    return caps


def load_split(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip()]


def splits(features, flickr, limit=0, dev_limit=0):
    """The cached features' index (name → row of names.txt), the captions, and the train and dev
    images that have features, cut to limit and dev_limit when they are set."""
    with open(os.path.join(features, "names.txt")) as f:
        index = {n: i for i, n in enumerate(l.strip() for l in f if l.strip())}
    caps = load_captions(os.path.join(flickr, "Flickr8k.token.txt"))
    train = [n for n in load_split(os.path.join(flickr, "Flickr_8k.trainImages.txt")) if n in index]
    dev = [n for n in load_split(os.path.join(flickr, "Flickr_8k.devImages.txt")) if n in index]
    if limit:
        train = train[:limit]
    if dev_limit:
        dev = dev[:dev_limit]
    return index, caps, train, dev


class Vocab:
    def __init__(self, words):
        self.itos = list(words)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, caption_lists, min_count):
        counts = collections.Counter(w for caps in caption_lists for c in caps for w in c)
        words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(SPECIALS + words)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(l.rstrip("\n") for l in f)

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.itos) + "\n")

    def __len__(self):
        return len(self.itos)

    def encode(self, words, max_len):
        """[START] + words[:max_len] + [END], unknown words as UNK."""
        unk = self.stoi[UNK]
        ids = [self.stoi[START]] + [self.stoi.get(w, unk) for w in words[:max_len]] + [self.stoi[END]]
        return ids

    def decode(self, ids):
        out = []
        for i in ids:
            w = self.itos[i]
            if w == END:
                break
            if w not in (START, PAD):
                out.append(w)
        return " ".join(out)


def encode_all(names, caps, vocab, max_len):
    """Returns (image_index [M], tokens [M, max_len+2] padded with 0) over every caption."""
    img_idx, rows = [], []
    for i, n in enumerate(names):
        for c in caps[n]:
            ids = vocab.encode(c, max_len)
            rows.append(ids + [0] * (max_len + 2 - len(ids)))
            img_idx.append(i)
    return np.array(img_idx, dtype=np.int64), np.array(rows, dtype=np.int64)
