"""Trains a caption decoder on cached encoder features and keeps the best dev epoch.

    /usr/bin/python3 models/train/train.py --features CACHE_DIR --out RUN_DIR [--kind init] ...

CACHE_DIR holds names.txt, pooled.npy [M,1280], (for --kind att) spatial.npy
[M,49,1280] and (for --det) detvec.npy [M,160], as written by `go run ./models/train/extract`.
RUN_DIR receives vocab.txt, config.json, best.pt and log.jsonl.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import model as models  # noqa: E402
import score  # noqa: E402


def beam_search(net, feats, vocab, beam=3, max_len=20, alpha=0.0, block_trigrams=True):
    """Batched beam search over images; mirrors captioner/beam.go. Returns token lists."""
    n = feats.shape[0]
    start, end = vocab.stoi[data.START], vocab.stoi[data.END]
    st = net.init(feats)
    h, c, static = st[0], st[1], list(st[2:])
    rep = lambda x: x.repeat_interleave(beam, dim=0)  # noqa: E731
    h, c, static = rep(h), rep(c), [rep(s) for s in static]
    tokens = torch.full((n * beam,), start, dtype=torch.long)
    scores = torch.zeros(n, beam)
    scores[:, 1:] = -1e9  # only one live beam at the first step
    seqs = [[[] for _ in range(beam)] for _ in range(n)]
    done = [[] for _ in range(n)]
    alive = torch.ones(n, beam, dtype=torch.bool)
    V = len(vocab)
    for t in range(max_len + 1):
        logp, h, c = net.step(tokens, h, c, *static)
        logp = logp.view(n, beam, V).clone()
        logp[..., 0] = -1e9  # never <pad>
        logp[..., vocab.stoi[data.START]] = -1e9
        if t == max_len:
            mask = torch.full((V,), -1e9)
            mask[end] = 0
            logp = logp + mask
        if block_trigrams and t >= 2:
            for i in range(n):
                for b in range(beam):
                    s = seqs[i][b]
                    if len(s) >= 2:
                        seen = {(s[j], s[j + 1]): s[j + 2] for j in range(len(s) - 2)}
                        nxt = [s[j + 2] for j in range(len(s) - 2) if (s[j], s[j + 1]) == (s[-2], s[-1])]
                        for w in nxt:
                            logp[i, b, w] = -1e9
        cand = (scores[..., None] + logp).masked_fill(~alive[..., None], -1e9).view(n, -1)
        top_s, top_i = cand.topk(beam * 2, dim=1)
        new_scores = torch.full((n, beam), -1e9)
        parents = torch.zeros(n, beam, dtype=torch.long)
        new_tok = torch.full((n, beam), end, dtype=torch.long)
        new_seqs = [[[] for _ in range(beam)] for _ in range(n)]
        new_alive = torch.zeros(n, beam, dtype=torch.bool)
        for i in range(n):
            k = 0
            for s, idx in zip(top_s[i].tolist(), top_i[i].tolist()):
                if s <= -1e8 or k == beam:
                    break
                b, w = divmod(idx, V)
                if w == end:
                    L = len(seqs[i][b]) + 1
                    done[i].append((s / (L ** alpha if alpha else 1.0), s / L, seqs[i][b]))
                    continue
                new_scores[i, k], parents[i, k], new_tok[i, k] = s, b, w
                new_seqs[i][k] = seqs[i][b] + [w]
                new_alive[i, k] = True
                k += 1
            # stop this image when its best finished hypothesis beats every live one
            if done[i] and k:
                best_done = max(d[0] for d in done[i])
                best_live = new_scores[i, 0].item() / ((len(new_seqs[i][0]) + 1) ** alpha if alpha else 1.0)
                if alpha == 0 and best_done >= new_scores[i, 0].item():
                    new_alive[i] = False
                elif alpha and best_done >= best_live and len(done[i]) >= beam:
                    new_alive[i] = False
        if not new_alive.any():
            break
        flat = (parents + torch.arange(n)[:, None] * beam).view(-1)
        h, c = h[flat], c[flat]
        tokens, scores, seqs, alive = new_tok.view(-1), new_scores, new_seqs, new_alive
    out = []
    for i in range(n):
        if done[i]:
            out.append(max(done[i], key=lambda d: d[0])[2])
        else:
            out.append(seqs[i][0])
    return out


def caption_xe(net, feats, tokens, label_smoothing):
    """Cross-entropy of the reference captions tokens [n, per, L] (0-padded) of the n photos feats."""
    per = tokens.shape[1]
    tok = tokens.reshape(-1, tokens.shape[2])
    tok = tok[:, :int((tok != 0).sum(1).max())]
    logits = net(feats, tok[:, :-1], per)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tok[:, 1:].reshape(-1),
                           ignore_index=0, label_smoothing=label_smoothing)


def evaluate(net, feats, names, refs, vocab, beam, max_len, alpha, batch=100):
    net.eval()
    cands = {}
    with torch.no_grad():
        for i in range(0, len(names), batch):
            f = torch.from_numpy(np.asarray(feats[i:i + batch], dtype=np.float32))
            for n, ids in zip(names[i:i + batch], beam_search(net, f, vocab, beam, max_len, alpha)):
                cands[n] = [vocab.itos[j] for j in ids]
    r = {n: refs[n] for n in names}
    b = score.bleu(cands, r)
    cider = score.cider_d(cands, r)
    distinct = len({" ".join(c) for c in cands.values()}) / len(cands)
    return {"bleu1": b[0], "bleu4": b[3], "ciderD": cider, "distinct": distinct}, cands


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True)
    ap.add_argument("--flickr", default=os.path.join(os.path.dirname(__file__), "../../../shared/flickr8k"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--kind", default="init", choices=["merge", "init", "att"])
    ap.add_argument("--every-step", action="store_true", help="init: feed the image at every step too")
    ap.add_argument("--tie", action="store_true", help="tie input and output word embeddings")
    ap.add_argument("--grid", action="store_true",
                    help="init: start from the spatial map pooled globally and over four corners, not the pooled vector")
    ap.add_argument("--det", action="store_true",
                    help="merge: condition on the detector vector (detvec.npy) added to the image projection")
    ap.add_argument("--emb", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--beam", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=0.0, help="length normalisation exponent")
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--eval-from", type=int, default=1,
                    help="score the dev split (and keep a checkpoint) only from this epoch on; saves time early in a schedule")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop after this much training time")
    ap.add_argument("--stop-epoch", type=int, default=0,
                    help="stop after this epoch, keeping the --epochs schedule (for equal-budget comparisons)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many train images (smoke tests)")
    ap.add_argument("--dev-limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)

    index, caps, train, dev = data.splits(args.features, args.flickr, args.limit, args.dev_limit)
    feat_file = "spatial.npy" if args.kind == "att" or args.grid else "pooled.npy"
    feats = np.load(os.path.join(args.features, feat_file), mmap_mode="r")
    if args.det:
        if args.kind != "merge":
            raise SystemExit("--det needs --kind merge")
        detvec = np.load(os.path.join(args.features, "detvec.npy"))
        feats = np.concatenate([np.asarray(feats, dtype=np.float32), detvec], axis=1)
    vocab = data.Vocab.build([caps[n] for n in train], args.min_count)
    vocab.save(os.path.join(args.out, "vocab.txt"))
    train_feats = torch.from_numpy(np.asarray(feats[[index[n] for n in train]], dtype=np.float32))
    dev_feats = np.asarray(feats[[index[n] for n in dev]], dtype=np.float32)
    img_idx, tokens = data.encode_all(train, caps, vocab, args.max_len)
    per = len(tokens) // len(train)
    if per * len(train) != len(tokens) or not (img_idx.reshape(len(train), per) == np.arange(len(train))[:, None]).all():
        raise SystemExit("every train image needs the same number of captions")
    tokens = torch.from_numpy(tokens).view(len(train), per, -1)

    kw = dict(emb=args.emb, hidden=args.hidden, dropout=args.dropout)
    if args.det:
        kw.update(det=True)
    if args.kind == "init":
        kw.update(every_step=args.every_step, tie=args.tie, grid=args.grid)
    elif args.kind == "att":
        kw.update(tie=args.tie)
    net = models.build(args.kind, len(vocab), **kw)
    cfg = dict(vars(args), vocab_size=len(vocab), model_kwargs=kw, train_images=len(train),
               train_captions=len(img_idx), input_name=net.input_name,
               input_names=getattr(net, "input_names", [net.input_name]))
    json.dump(cfg, open(os.path.join(args.out, "config.json"), "w"), indent=1)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    # A batch is args.batch captions: args.batch // per images with all their captions,
    # so the image side of the model runs once per image.
    img_batch = max(1, args.batch // per)
    steps_per_epoch = math.ceil(len(train) / img_batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch,
                                                pct_start=0.1, anneal_strategy="cos")
    print(f"{args.kind}: vocab {len(vocab)}, {len(train)} train images, {len(img_idx)} captions, "
          f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f}M params", flush=True)

    log = open(os.path.join(args.out, "log.jsonl"), "a")
    best, bad, t0 = -1.0, 0, time.time()
    for epoch in range(1, args.epochs + 1):
        net.train()
        perm = torch.randperm(len(train))
        total, seen, te = 0.0, 0, time.time()
        for s in range(steps_per_epoch):
            idx = perm[s * img_batch:(s + 1) * img_batch]
            loss = caption_xe(net, train_feats[idx], tokens[idx], args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        train_min = (time.time() - t0) / 60
        if epoch < args.eval_from and epoch < args.epochs:
            rec = dict(epoch=epoch, loss=total / seen, epoch_s=round(time.time() - te, 1), minutes=round(train_min, 2))
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            continue
        scores, cands = evaluate(net, dev_feats, dev, caps, vocab, args.beam, args.max_len, args.alpha)
        rec = dict(epoch=epoch, loss=total / seen, epoch_s=round(time.time() - te, 1),
                   minutes=round(train_min, 2), **{k: round(v, 4) for k, v in scores.items()})
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if scores["ciderD"] > best:
            best, bad = scores["ciderD"], 0
            torch.save(net.state_dict(), os.path.join(args.out, "best.pt"))
            json.dump(dict(rec, samples={n: " ".join(cands[n]) for n in dev[:20]}),
                      open(os.path.join(args.out, "best.json"), "w"), indent=1)
        else:
            bad += 1
            if bad >= args.patience:
                break
        if args.max_minutes and train_min > args.max_minutes:
            break
        if args.stop_epoch and epoch >= args.stop_epoch:
            break
    print(f"best dev CIDEr-D {best:.4f}", flush=True)


if __name__ == "__main__":
    main()
