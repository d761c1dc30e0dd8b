"""Writes NanoDet input tensors of photos, for the faithfulness check.

    /usr/bin/python3 models/convert/nanodet_inputs.py --out models/convert/cache/faithfulness \
        /usr/share/darknet/data/{dog,person,horses,giraffe,eagle,kite}.jpg

For each photo NAME.jpg it writes NAME.input.bin: float32 [1,3,416,416],
NCHW BGR, (pixel - mean) / std with NanoDet's mean and std, the photo
stretched to 416×416 with PIL's bilinear filter (what captioner/resize.go
reproduces). nanodet_tfjs.js runs the TF.js model on these files and
captioner's TestDetectorMatchesTFJS runs ONNX Runtime on the same ones.
"""

import argparse
import os

import numpy as np
from PIL import Image

SIZE = 416
MEAN = np.array([103.53, 116.28, 123.675], np.float32)  # B, G, R
STD = np.array([57.375, 57.12, 58.395], np.float32)


def tensor(path):
    img = Image.open(path).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    a = np.asarray(img, np.float32)[:, :, ::-1]  # BGR
    a = (a - MEAN) / STD
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/convert/cache/faithfulness")
    ap.add_argument("photos", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for p in a.photos:
        name = os.path.splitext(os.path.basename(p))[0]
        t = tensor(p)
        t.astype("<f4").tofile(os.path.join(a.out, name + ".input.bin"))
        print(f"{name}: {Image.open(p).size} -> {t.shape}")


if __name__ == "__main__":
    main()
