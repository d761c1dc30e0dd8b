"""Self-critical sequence training (Rennie et al. 2017) of a trained merge decoder on CIDEr-D.

    /usr/bin/python3 models/train/scst.py --features CACHE_DIR --from RUN_DIR --out NEW_RUN_DIR

Starts from RUN_DIR/best.pt (train.py's cross-entropy run) and fine-tunes it with the policy gradient:
for every train photo it samples --samples captions from the decoder, rewards each with its CIDEr-D
against the photo's five reference captions (document frequencies from the train references, as in
the paper) and uses the mean reward of the photo's other samples as the baseline (Luo 2020, "A better
variant of self-critical sequence training"), so no greedy pass is needed. Each epoch ends with the
training loop's dev scoring (train.evaluate: beam 3, no length normalisation); the best dev CIDEr-D
epoch is kept. With --chair-weight W the reward also loses W for every COCO class a sample names that
none of the photo's references names (CHAIR's hallucination, Rohrbach et al. 2018), so the decoder is
not paid for naming likely objects it did not see; --ref-classes and --vocab-classes give the classes
(`go run ./models/train/refclasses`, with and without -vocab). With --xe-weight X the loss adds X times
the cross-entropy of the batch photos' reference captions (a mixed objective; models/README.md has what
it did: more distinct captions, but CIDEr-D held back). With --shared-weight S a sample also loses S when another
photo of its batch sampled the very same caption: a caption that fits other photos as well does not describe
this one. NEW_RUN_DIR gets config.json, vocab.txt, best.pt and log.jsonl like a train.py run, so
export.py exports it unchanged.
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import export  # noqa: E402
import score  # noqa: E402
import train as trainer  # noqa: E402


class Hallucination:
    """Counts the COCO classes a caption names that no reference of its photo names."""

    def __init__(self, ref_classes, vocab_classes):
        refs = json.load(open(ref_classes))
        self.refs = {k: {c for cs in v for c in (cs or [])} for k, v in refs.items()}
        vc = json.load(open(vocab_classes))
        self.words, self.pairs = vc["words"], vc["pairs"]

    def count(self, key, words):
        named, i = set(), 0
        while i < len(words):
            pair = " ".join(words[i:i + 2])
            if pair in self.pairs:
                named.add(self.pairs[pair])
                i += 2
                continue
            if words[i] in self.words:
                named.add(self.words[words[i]])
            i += 1
        return len(named - self.refs.get(key, set()))


def sample(net, feats, vocab, k, max_len, banned):
    """k sampled captions per photo (no gradient): token ids [n*k, <=max_len+1], ending in <end> or cut."""
    n = feats.shape[0]
    end = vocab.stoi[data.END]
    with torch.no_grad():
        h, c, img = net.init(feats)
        h, c, img = (x.repeat_interleave(k, dim=0) for x in (h, c, img))
        tok = torch.full((n * k,), vocab.stoi[data.START], dtype=torch.long)
        out = []
        alive = torch.ones(n * k, dtype=torch.bool)
        for _ in range(max_len + 1):
            logp, h, c = net.step(tok, h, c, img)
            if banned:
                logp[:, banned] = -1e9
            tok = torch.multinomial(logp.exp(), 1)[:, 0]
            tok = torch.where(alive, tok, torch.zeros_like(tok))
            out.append(tok)
            alive = alive & (tok != end)
            if not alive.any():
                break
    return torch.stack(out, dim=1)


def words_of(ids, vocab):
    end = vocab.stoi[data.END]
    ws = []
    for i in ids:
        if i == end or i == 0:
            break
        ws.append(vocab.itos[i])
    return ws


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--flickr", default=os.path.join(os.path.dirname(__file__), "../../../shared/flickr8k"))
    ap.add_argument("--from", dest="start", required=True, help="train.py run to start from")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--images", type=int, default=50, help="photos per batch")
    ap.add_argument("--samples", type=int, default=5, help="sampled captions per photo")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--chair-weight", type=float, default=0.0,
                    help="reward penalty per named COCO class that no reference of the photo names")
    ap.add_argument("--ref-classes", default="", help="refclasses output for the token file")
    ap.add_argument("--vocab-classes", default="", help="refclasses -vocab output for the run's vocabulary")
    ap.add_argument("--xe-weight", type=float, default=0.0,
                    help="add this times the cross-entropy of the batch photos' reference captions to the loss")
    ap.add_argument("--shared-weight", type=float, default=0.0,
                    help="reward penalty for a sample that is word for word a sample of another photo in the batch")
    ap.add_argument("--limit", type=int, default=0, help="use only this many train images (smoke tests)")
    ap.add_argument("--dev-limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    net, cfg = export.load(args.start)
    if cfg["kind"] != "merge" or cfg["model_kwargs"].get("det"):
        raise SystemExit("scst.py fine-tunes a merge decoder without --det")
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(os.path.join(args.start, "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    vocab = data.Vocab.load(os.path.join(args.start, "vocab.txt"))
    json.dump(dict(cfg, scst=dict(vars(args))), open(os.path.join(args.out, "config.json"), "w"), indent=1)

    index, caps, train, dev = data.splits(args.features, args.flickr, args.limit, args.dev_limit)
    feats = np.load(os.path.join(args.features, "pooled.npy"), mmap_mode="r")
    train_feats = torch.from_numpy(np.asarray(feats[[index[n] for n in train]], dtype=np.float32))
    dev_feats = np.asarray(feats[[index[n] for n in dev]], dtype=np.float32)
    # Samples come from the decoder's whole distribution, as beam search sees it: a token never sampled
    # is never penalised, and the mass that negative advantages push away from the sampled tokens
    # would pile up on it (banning <unk> here made it the beam's favourite word within two epochs).
    # References keep their words outside the vocabulary, so a sampled <unk> matches nothing.
    refs = {n: [c[:args.max_len] for c in caps[n]] for n in train}
    cider = score.Cider(refs)
    halluc = None
    if args.chair_weight:
        if not args.ref_classes or not args.vocab_classes:
            raise SystemExit("--chair-weight needs --ref-classes and --vocab-classes")
        halluc = Hallucination(args.ref_classes, args.vocab_classes)
    banned = []
    if args.xe_weight:
        _, tokens = data.encode_all(train, caps, vocab, args.max_len)
        tokens = torch.from_numpy(tokens).view(len(train), -1, tokens.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    k = args.samples
    log = open(os.path.join(args.out, "log.jsonl"), "a")

    scores, _ = trainer.evaluate(net, dev_feats, dev, caps, vocab, 3, args.max_len, 0.0)
    rec = dict(epoch=0, **{key: round(v, 4) for key, v in scores.items()})
    print(json.dumps(rec), flush=True)
    log.write(json.dumps(rec) + "\n")
    best, t0 = scores["ciderD"], time.time()
    torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(len(train))
        te, rsum, rn, hsum, xsum, shared = time.time(), 0.0, 0, 0, 0.0, 0
        for s in range(0, len(train), args.images):
            idx = perm[s:s + args.images]
            f = train_feats[idx]
            net.eval()  # sample and score without dropout, so the gradient is the sampling policy's
            ids = sample(net, f, vocab, k, args.max_len, banned)
            rs, hs = [], 0
            words = [words_of(row, vocab) for row in ids.tolist()]
            texts = [" ".join(ws) for ws in words]
            photos = {}  # caption text → the batch photos that sampled it
            for i, t in enumerate(texts):
                photos.setdefault(t, set()).add(i // k)
            for i, ws in enumerate(words):
                key = train[idx[i // k]]
                r = cider.score(key, ws)
                if halluc:
                    h = halluc.count(key, ws)
                    r, hs = r - args.chair_weight * h, hs + h
                if len(photos[texts[i]]) > 1:
                    shared += 1
                    # A caption that fits other photos as well does not describe this one (a cheap form of
                    # the discriminability reward of Luo et al. 2018): the generic captions self-critical
                    # training converges on are what makes its captions repeat across photos.
                    r -= args.shared_weight
                rs.append(r)
            hsum += hs
            r = torch.tensor(rs).view(len(idx), k)
            adv = (r - (r.sum(1, keepdim=True) - r) / (k - 1)).view(-1)
            start = torch.full((ids.shape[0], 1), vocab.stoi[data.START], dtype=torch.long)
            inp = torch.cat([start, ids[:, :-1]], dim=1)
            # Positions up to and including the first <end> (or the cut) count.
            mask = torch.ones_like(ids, dtype=torch.bool)
            mask[:, 1:] = (ids[:, :-1] != vocab.stoi[data.END]) & (ids[:, :-1] != 0)
            mask &= torch.cumprod(mask.long(), dim=1).bool()
            logp = F.log_softmax(net(f, inp, k), dim=-1).gather(2, ids[..., None])[..., 0]
            loss = -(adv[:, None] * logp * mask).sum() / mask.sum()
            if args.xe_weight:
                # The mixed objective of Paulus et al. 2018: the references' likelihood keeps the decoder's
                # wording closer to theirs, which plain self-critical training narrows.
                xe = trainer.caption_xe(net, f, tokens[idx], cfg.get("label_smoothing", 0.0))
                loss = loss + args.xe_weight * xe
                xsum += xe.item() * len(idx)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            rsum, rn = rsum + r.sum().item(), rn + r.numel()
        scores, cands = trainer.evaluate(net, dev_feats, dev, caps, vocab, 3, args.max_len, 0.0)
        rec = dict(epoch=epoch, reward=round(rsum / rn, 4), halluc_per_sample=round(hsum / rn, 4), shared=round(shared / rn, 4),
                   **(dict(xe=round(xsum / len(train), 4)) if args.xe_weight else {}), epoch_s=round(time.time() - te, 1),
                   minutes=round((time.time() - t0) / 60, 2), **{key: round(v, 4) for key, v in scores.items()},
                   first=[" ".join(cands[n]) for n in dev[:3]])
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if scores["ciderD"] > best:
            best = scores["ciderD"]
            torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
            json.dump(dict(rec, samples={n: " ".join(cands[n]) for n in dev[:20]}),
                      open(os.path.join(args.out, "best.json"), "w"), indent=1)
    print(f"best dev CIDEr-D {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
