"""8-bit weights as ONNX Runtime's MatMulNBits (com.microsoft) reads them, shared by the decoder rewrites.

Symmetric, one scale per `block` weights of an output column: w [N, K] -> q uint8 [N, K/block, block] (value +
128) and scale float32 [N * K/block]. decoder_step.py, decoder_step_gemm.py and decoder_step_att.py all quantize
this way (models/README.md, Caption decoder).
"""

import numpy as np


def quantize(w, block):
    """w [N, K] (K a multiple of block) -> (q uint8 [N, K/block, block], scale float32 [N*K/block])."""
    n, k = w.shape
    blocks = w.reshape(n, k // block, block)
    scale = np.abs(blocks).max(axis=2) / 127.0
    scale[scale == 0] = 1.0
    q = (np.clip(np.round(blocks / scale[:, :, None]), -127, 127).astype(np.int16) + 128).astype(np.uint8)
    return q, scale.astype(np.float32).reshape(-1)
