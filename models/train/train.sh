#!/usr/bin/env bash
# One command from the shared Flickr8k data to models/decoder_*.onnx:
#   models/train/train.sh [FLICKR_DIR] [-- extra train.py flags]
# Extracts encoder features through the Go pipeline (cached in models/train/cache/),
# trains the decoder with the flags recorded in models/README.md (seeded), fine-tunes it
# self-critically (scst.py), and exports it.
# Env: PYTHON (default /usr/bin/python3, Debian's python3-torch), OUT (default models/).
# OPENBLAS_CORETYPE is set from the CPU's flags when unset (openblas.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
flickr=${1:-../shared/flickr8k}
shift || true
[ "${1:-}" = "--" ] && shift
py=${PYTHON:-/usr/bin/python3}
. models/train/openblas.sh
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
# Self-critical fine-tuning on CIDEr-D with the hallucination and shared-caption penalties (models/README.md,
# Self-critical training): the shipped decoder is this run's best dev epoch.
go run ./models/train/refclasses "$flickr/Flickr8k.token.txt" > "$cache/ref_classes.json"
go run ./models/train/refclasses -vocab "$run/vocab.txt" > "$cache/vocab_classes.json"
"$py" models/train/scst.py --features "$cache/features" --flickr "$flickr" --from "$run" --out "$run-scst" \
  --epochs 12 --lr 5e-5 --chair-weight 0.3 --shared-weight 0.3 --ref-classes "$cache/ref_classes.json" \
  --vocab-classes "$cache/vocab_classes.json" --seed 1 --threads 1
"$py" models/train/export.py --run "$run-scst" --out "$out"
# The shipped step graph is the int8 rewrite of the exported one (models/README.md, Caption decoder, Speed and
# memory); the float export stays in the cache. Any new decoder needs its dev eval with the rewrite.
cp "$out/decoder_step.onnx" "$cache/decoder_step-float.onnx"
"$py" models/convert/decoder_step.py --float "$cache/decoder_step-float.onnx" --out "$out/decoder_step.onnx"
