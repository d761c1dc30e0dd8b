#!/usr/bin/env bash
# One command from the shared Flickr8k data to models/decoder_*.onnx:
#   models/train/train.sh [FLICKR_DIR] [-- extra train.py flags]
# Extracts encoder features through the Go pipeline (cached in models/train/cache/),
# trains the decoder with the flags recorded in models/README.md (seeded), and exports it.
# Env: PYTHON (default /usr/bin/python3, Debian's python3-torch), OUT (default models/).
set -euo pipefail
cd "$(dirname "$0")/../.."
flickr=${1:-../shared/flickr8k}
shift || true
[ "${1:-}" = "--" ] && shift
py=${PYTHON:-/usr/bin/python3}
out=${OUT:-models}
cache=models/train/cache
run=$cache/run

"$py" -c 'import torch, onnx' 2>/dev/null || {
  echo "train.sh: needs PyTorch and ONNX for $py: apt-get install python3-torch python3-onnx libopenblas0-openmp" >&2
  exit 2
}
if [ ! -s "$cache/features/names.txt" ]; then
  echo "train.sh: extracting encoder features of the train and dev images into $cache/features"
  go run ./models/train/extract -images "$flickr/images" \
    -split "$flickr/Flickr_8k.trainImages.txt" -split "$flickr/Flickr_8k.devImages.txt" \
    -out "$cache/features"
fi
echo "train.sh: training (log in $run/log.jsonl)"
# The shipped decoder's flags (models/README.md); flags given after -- override them.
"$py" models/train/train.py --features "$cache/features" --flickr "$flickr" --out "$run" \
  --kind merge --emb 256 --hidden 256 --dropout 0.5 --label-smoothing 0.1 --lr 1e-3 --epochs 8 --eval-from 5 \
  --seed 1 --threads 1 "$@"
"$py" models/train/export.py --run "$run" --out "$out"
# The shipped step graph is the int8 rewrite of the exported one (models/README.md, Caption decoder, Speed and
# memory); the float export stays in the cache. Any new decoder needs its dev eval with the rewrite.
cp "$out/decoder_step.onnx" "$cache/decoder_step-float.onnx"
"$py" models/convert/decoder_step.py --float "$cache/decoder_step-float.onnx" --out "$out/decoder_step.onnx"
