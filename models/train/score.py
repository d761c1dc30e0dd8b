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


class Cider:
    """CIDEr-D of single candidates against fixed references (tf-idf n-gram cosine, n=1..4, with
    clipping and a length penalty, x10), with the reference vectors and document frequencies
    computed once from refs."""

    def __init__(self, refs, sigma=6.0):
        self.sigma = sigma
        df = collections.Counter()
        for rs in refs.values():
            seen = set()
            for r in rs:
                for n in range(1, 5):
                    seen.update(_ngrams(r, n))
            df.update(seen)
        self.df, self.log_n = df, math.log(float(len(refs)))
        self.refs = {k: [(self._vec(r), len(r)) for r in rs] for k, rs in refs.items()}

    def _vec(self, words):
        out = []
        for n in range(1, 5):
            d = {g: k * (self.log_n - math.log(max(1.0, self.df[g]))) for g, k in _ngrams(words, n).items()}
            out.append((d, math.sqrt(sum(x * x for x in d.values()))))
        return out

    def score(self, key, words):
        cv = self._vec(words)
        total = 0.0
        refs = self.refs[key]
        for rv, rlen in refs:
            pen = math.exp(-((len(words) - rlen) ** 2) / (2 * self.sigma ** 2))
            for (c, cn), (r, rn) in zip(cv, rv):
                if cn and rn:
                    dot = sum(min(x, r.get(g, 0.0)) * r.get(g, 0.0) for g, x in c.items())
                    total += dot / (cn * rn) * pen
        return total / 4 / len(refs) * 10.0


def cider_d(cands, refs, sigma=6.0):
    """Corpus CIDEr-D: the mean of Cider over cands, document frequencies from their references."""
    c = Cider({k: refs[k] for k in cands}, sigma)
    return sum(c.score(k, words) for k, words in cands.items()) / len(cands)
