"""Quick BLEU and CIDEr-D in Python, for model selection during training.

The reported numbers come from the Go implementation (`captionbot eval`);
these follow the same definitions (COCO caption evaluation) so that the
training loop can pick the best epoch on the dev split.
"""

import collections
import math


def _ngrams(words, n):
    return collections.Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def bleu(cands, refs, n_max=4):
    """Corpus BLEU-1..n_max with the 'closest' reference length."""
    match = [0] * n_max
    total = [0] * n_max
    c_len = r_len = 0
    for key, c in cands.items():
        rs = refs[key]
        c_len += len(c)
        r_len += min((abs(len(r) - len(c)), len(r)) for r in rs)[1]
        for n in range(1, n_max + 1):
            cn = _ngrams(c, n)
            mx = collections.Counter()
            for r in rs:
                for g, k in _ngrams(r, n).items():
                    mx[g] = max(mx[g], k)
            match[n - 1] += sum(min(k, mx[g]) for g, k in cn.items())
            total[n - 1] += max(len(c) - n + 1, 0)
    tiny, small = 1e-15, 1e-9
    bp = 1.0 if c_len > r_len else math.exp(1 - r_len / (c_len + tiny))
    out, logsum = [], 0.0
    for n in range(n_max):
        logsum += math.log((match[n] + tiny) / (total[n] + small))
        out.append(bp * math.exp(logsum / (n + 1)))
    return out


def cider_d(cands, refs, sigma=6.0):
    """CIDEr-D: tf-idf n-gram cosine (n=1..4) with clipping and a length penalty, x10."""
    keys = list(cands)
    df = collections.Counter()
    ref_ngrams = {}
    for k in keys:
        per = []
        for r in refs[k]:
            per.append([_ngrams(r, n) for n in range(1, 5)])
        ref_ngrams[k] = per
        seen = set()
        for grams in per:
            for g in grams:
                seen.update(g.keys())
        df.update(seen)
    log_n = math.log(float(len(keys)))

    def vec(grams):
        v, norms = [], []
        for g in grams:
            d = {w: k * (log_n - math.log(max(1.0, df[w]))) for w, k in g.items()}
            v.append(d)
            norms.append(math.sqrt(sum(x * x for x in d.values())))
        return v, norms

    total = 0.0
    for k in keys:
        c = cands[k]
        cv, cn = vec([_ngrams(c, n) for n in range(1, 5)])
        score = [0.0] * 4
        for r, grams in zip(refs[k], ref_ngrams[k]):
            rv, rn = vec(grams)
            delta = len(c) - len(r)
            for n in range(4):
                dot = sum(min(x, rv[n].get(w, 0.0)) * rv[n].get(w, 0.0) for w, x in cv[n].items())
                if cn[n] and rn[n]:
                    score[n] += dot / (cn[n] * rn[n]) * math.exp(-(delta ** 2) / (2 * sigma ** 2))
        total += sum(score) / 4 / len(refs[k]) * 10.0
    return total / len(keys)
