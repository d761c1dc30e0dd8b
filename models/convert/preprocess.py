#!/usr/bin/python3
"""Reference preprocessing of the encoder's input, for checking the Go code.

    /usr/bin/python3 models/convert/preprocess.py [--float] IMAGE OUT.npy

Writes float32 [224,224,3] (HWC, RGB, pixel/127.5 - 1): the image decoded by
PIL, converted to RGB, squashed (aspect ratio not kept) to 224x224 with PIL's
bilinear filter, which widens with the downscale factor (antialiased).

By default this is exactly convert.py's preprocess() (PIL resizes 8-bit
images with 8-bit intermediate results). --float resizes each channel as a
32-bit float image instead, without that rounding: the same filter, for
comparing with captioner.Preprocess, which resamples at 16 bits.
"""
import argparse

import numpy as np
from PIL import Image

SIZE = 224


def preprocess(path, exact_float=False):
    img = Image.open(path).convert("RGB")
    if img.size == (SIZE, SIZE):
        return np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    if not exact_float:
        img = img.resize((SIZE, SIZE), Image.BILINEAR)
        return np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    channels = []
    for band in img.split():
        f = band.convert("F").resize((SIZE, SIZE), Image.BILINEAR)
        channels.append(np.asarray(f, dtype=np.float32))
    return np.stack(channels, axis=-1) / 127.5 - 1.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--float", dest="exact_float", action="store_true", help="resize without 8-bit rounding")
    ap.add_argument("image")
    ap.add_argument("out")
    args = ap.parse_args()
    np.save(args.out, preprocess(args.image, args.exact_float).astype(np.float32))


if __name__ == "__main__":
    main()
