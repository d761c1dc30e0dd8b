#!/usr/bin/env bash
# Training smoke test: extracts features of a handful of Flickr8k images through the Go
# encoder, trains each decoder kind for one short epoch, exports it, and checks in Go that
# the exported graphs load with the expected input/output names and shapes and decode (alone and
# joined into a two-member ensemble), and fine-tunes the merge run self-critically (scst.py).
#   models/train/smoke.sh [FLICKR_DIR]
# Skips (exit 0, with a message) when the shared Flickr8k data is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
flickr=${1:-../shared/flickr8k}
py=${PYTHON:-/usr/bin/python3}
. models/train/openblas.sh
if [ ! -d "$flickr/images" ]; then
  echo "smoke: SKIP: no Flickr8k data at $flickr"
  exit 0
fi
"$py" -c 'import torch, onnx' || {
  echo "smoke: needs PyTorch and ONNX for $py: apt-get install python3-torch python3-onnx libopenblas0-openmp" >&2
  exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 40 "$flickr/Flickr_8k.trainImages.txt" > "$tmp/train.txt"
head -n 10 "$flickr/Flickr_8k.devImages.txt" > "$tmp/dev.txt"
go run ./models/train/extract -images "$flickr/images" -split "$tmp/train.txt" -split "$tmp/dev.txt" -out "$tmp/features"
# decoder_tests DIR WHAT: the Go decoder tests on the exported decoder in DIR; a skip (no ONNX Runtime) fails.
decoder_tests() {
  CAPTIONBOT_DECODER_DIR="$1" go test ./captioner -count=1 \
    -run 'TestExportedDecoderGraphs|TestBeamSearchIsDeterministicAndBounded' -v 2>&1 | tee "$1.log"
  if grep -q -- '--- SKIP' "$1.log"; then
    echo "smoke: the Go decoder tests skipped for $2 (is ONNX Runtime installed? run scripts/setup.sh)" >&2
    exit 1
  fi
}
for variant in init init-grid att merge merge-det; do
  echo "smoke: $variant"
  kind=${variant%-grid}
  flags=(--kind "${kind%-det}")
  [ "$variant" = init-grid ] && flags+=(--grid)
  [ "$variant" = merge-det ] && flags+=(--det)
  "$py" models/train/train.py --features "$tmp/features" --flickr "$flickr" --out "$tmp/run-$variant" \
    "${flags[@]}" --epochs 1 --limit 40 --dev-limit 10 --hidden 64 --emb 32 --threads 2
  "$py" models/train/export.py --run "$tmp/run-$variant" --out "$tmp/onnx-$variant"
  decoder_tests "$tmp/onnx-$variant" "$variant"
done
echo "smoke: self-critical fine-tuning of the merge run (models/train/scst.py)"
go run ./models/train/refclasses "$flickr/Flickr8k.token.txt" > "$tmp/ref_classes.json"
go run ./models/train/refclasses -vocab "$tmp/run-merge/vocab.txt" > "$tmp/vocab_classes.json"
"$py" models/train/scst.py --features "$tmp/features" --flickr "$flickr" --from "$tmp/run-merge" --out "$tmp/run-scst" \
  --epochs 1 --limit 40 --dev-limit 10 --images 10 --threads 2 --xe-weight 0.1 --shared-weight 0.15 \
  --chair-weight 0.3 --ref-classes "$tmp/ref_classes.json" --vocab-classes "$tmp/vocab_classes.json"
"$py" models/train/export.py --run "$tmp/run-scst" --out "$tmp/onnx-scst"
decoder_tests "$tmp/onnx-scst" "the scst run"
echo "smoke: the att run's lean int8 step and init graphs (models/convert/decoder_step_att.py)"
cp -r "$tmp/onnx-att" "$tmp/lean-att"
"$py" models/convert/decoder_step_att.py --run "$tmp/run-att" --block 32 \
  --out "$tmp/lean-att/decoder_step.onnx" --init-out "$tmp/lean-att/decoder_init.onnx"
decoder_tests "$tmp/lean-att" "the lean att graphs"
echo "smoke: the merge, merge-det, init and att runs, each joined with itself (models/convert/ensemble.py)"
for variant in merge merge-det init att; do
  "$py" models/convert/ensemble.py --member "$tmp/onnx-$variant" --member "$tmp/onnx-$variant" --out "$tmp/ens-$variant"
  decoder_tests "$tmp/ens-$variant" "the $variant ensemble"
done
echo "smoke: ok"
