"""Caption decoders: the classic merge model, init-inject LSTM, and soft attention.

Every model is split the way inference runs it (see export.py):
  init(image features)                      -> h, c, *static   (once per image)
  step(tokens, h, c, *static)               -> logprobs, h', c' (once per word, batched over beams)
`static` are per-image tensors the step needs (projected image, attention keys/values).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

FEAT_DIM = 1280
REGIONS = 49
DET_DIM = 160  # captioner.DetectorVectorLen: 80 COCO classes × (best score, count feature)


class Merge(nn.Module):
    """Image → Dropout → Dense ReLU; words → Embedding → Dropout → LSTM; add → Dense ReLU → vocab.

    With `det`, the detector vector (DET_DIM values: per COCO class the best detection score and a
    count feature, captioner.DetectorVector) is projected and added to the image projection before
    the ReLU (LSTM-A style, Yao et al. 2017); init then takes (pooled, detvec), or in training one
    tensor [N, FEAT_DIM + DET_DIM] with both."""

    input_name = "pooled"
    static_names = ["img"]

    def __init__(self, vocab, emb=256, hidden=256, dropout=0.5, det=False):
        super().__init__()
        self.hidden, self.det = hidden, det
        self.input_names = ["pooled", "detvec"] if det else ["pooled"]
        self.img = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEAT_DIM, hidden), nn.ReLU())
        if det:
            self.det_drop = nn.Dropout(dropout)
            self.det_proj = nn.Linear(DET_DIM, hidden, bias=False)
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, vocab))

    def init(self, pooled, detvec=None):
        n = pooled.shape[0]
        z = pooled.new_zeros(n, self.hidden)
        if not self.det:
            return z, z, self.img(pooled)
        if detvec is None:
            pooled, detvec = pooled[:, :FEAT_DIM], pooled[:, FEAT_DIM:]
        x = self.img[1](self.img[0](pooled)) + self.det_proj(self.det_drop(detvec))
        return z, z, torch.relu(x)

    def forward(self, pooled, tokens, per=1):
        img = self.init(pooled)[2].repeat_interleave(per, dim=0)
        out, _ = self.lstm(self.drop(self.embed(tokens)))
        return self.head(out + img[:, None, :])

    def step(self, tokens, h, c, img):
        out, (h2, c2) = self.lstm(self.embed(tokens)[:, None, :], (h[None], c[None]))
        return F.log_softmax(self.head(out[:, 0] + img), dim=-1), h2[0], c2[0]


def grid_pool(spatial):
    """The 7x7 map's global mean and the means of its four overlapping 4x4 corners: [N, 5*1280].

    Plain slices and means, so the init graph exports to ONNX as it is."""
    x = spatial.reshape(spatial.shape[0], 7, 7, FEAT_DIM)
    parts = [x.mean(dim=(1, 2))]
    for r in (0, 3):
        for c in (0, 3):
            parts.append(x[:, r:r + 4, c:c + 4].mean(dim=(1, 2)))
    return torch.cat(parts, dim=1)


class InitInject(nn.Module):
    """The image sets the LSTM's initial state (and is also fed at every step when `every_step`).

    With `grid`, the image is the spatial map pooled globally and over four corners (grid_pool),
    so the state also knows where things are; otherwise it is the pooled vector."""

    def __init__(self, vocab, emb=256, hidden=512, dropout=0.5, every_step=False, tie=False, grid=False):
        super().__init__()
        self.hidden, self.every_step, self.grid = hidden, every_step, grid
        self.input_name = "spatial" if grid else "pooled"
        feat = FEAT_DIM * (5 if grid else 1)
        self.static_names = ["img"] if every_step else []
        self.img_drop = nn.Dropout(dropout)
        self.init_h = nn.Linear(feat, hidden)
        self.init_c = nn.Linear(feat, hidden)
        self.img_proj = nn.Linear(feat, emb) if every_step else None
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(emb * (2 if every_step else 1), hidden, batch_first=True)
        self.pre = nn.Linear(hidden, emb)
        self.out = nn.Linear(emb, vocab)
        if tie:
            self.out.weight = self.embed.weight

    def init(self, feats):
        x = self.img_drop(grid_pool(feats) if self.grid else feats)
        h, c = torch.tanh(self.init_h(x)), torch.tanh(self.init_c(x))
        if self.every_step:
            return h, c, torch.relu(self.img_proj(x))
        return h, c

    def _logits(self, out):
        return self.out(self.drop(torch.tanh(self.pre(out))))

    def forward(self, pooled, tokens, per=1):
        st = [x.repeat_interleave(per, dim=0) for x in self.init(pooled)]
        e = self.drop(self.embed(tokens))
        if self.every_step:
            e = torch.cat([e, st[2][:, None, :].expand(-1, e.shape[1], -1)], dim=-1)
        out, _ = self.lstm(e, (st[0][None], st[1][None]))
        return self._logits(self.drop(out))

    def step(self, tokens, h, c, *static):
        e = self.embed(tokens)
        if self.every_step:
            e = torch.cat([e, static[0]], dim=-1)
        out, (h2, c2) = self.lstm(e[:, None, :], (h[None], c[None]))
        return F.log_softmax(self._logits(out[:, 0]), dim=-1), h2[0], c2[0]


class Attention(nn.Module):
    """Show, Attend and Tell (soft attention) over the encoder's 7x7 spatial map."""

    input_name = "spatial"
    static_names = ["keys", "values"]

    def __init__(self, vocab, emb=256, hidden=512, att=256, dropout=0.5, tie=False):
        super().__init__()
        self.hidden = hidden
        self.feat_drop = nn.Dropout(0.2)
        self.values_proj = nn.Linear(FEAT_DIM, hidden)
        self.keys_proj = nn.Linear(hidden, att)
        self.query = nn.Linear(hidden, att)
        self.score = nn.Linear(att, 1)
        self.gate = nn.Linear(hidden, hidden)
        self.init_h = nn.Linear(hidden, hidden)
        self.init_c = nn.Linear(hidden, hidden)
        self.embed = nn.Embedding(vocab, emb, padding_idx=0)
        self.cell = nn.LSTMCell(emb + hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.pre = nn.Linear(hidden + hidden, emb)
        self.out = nn.Linear(emb, vocab)
        if tie:
            self.out.weight = self.embed.weight

    def init(self, spatial):
        v = torch.relu(self.values_proj(self.feat_drop(spatial.reshape(spatial.shape[0], REGIONS, FEAT_DIM))))
        k = self.keys_proj(v)
        m = v.mean(dim=1)
        return torch.tanh(self.init_h(m)), torch.tanh(self.init_c(m)), k, v

    def _step(self, e, h, c, keys, values):
        a = self.score(torch.tanh(keys + self.query(h)[:, None, :]))[..., 0]
        alpha = torch.softmax(a, dim=1)
        ctx = (alpha[..., None] * values).sum(dim=1) * torch.sigmoid(self.gate(h))
        h2, c2 = self.cell(torch.cat([e, ctx], dim=-1), (h, c))
        logits = self.out(self.drop(torch.tanh(self.pre(self.drop(torch.cat([h2, ctx], dim=-1))))))
        return logits, h2, c2

    def forward(self, spatial, tokens, per=1):
        h, c, k, v = [x.repeat_interleave(per, dim=0) for x in self.init(spatial)]
        e = self.drop(self.embed(tokens))
        outs = []
        for t in range(tokens.shape[1]):
            logits, h, c = self._step(e[:, t], h, c, k, v)
            outs.append(logits)
        return torch.stack(outs, dim=1)

    def step(self, tokens, h, c, keys, values):
        logits, h2, c2 = self._step(self.embed(tokens), h, c, keys, values)
        return F.log_softmax(logits, dim=-1), h2, c2


def build(kind, vocab, **kw):
    return {"merge": Merge, "init": InitInject, "att": Attention}[kind](vocab, **kw)
