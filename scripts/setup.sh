#!/usr/bin/env bash
# Sets captionbot up on this machine: fetches the ONNX Runtime shared library
# into .ort/ (git-ignored) and builds ./captionbot (with -tags turbojpeg when
# libturbojpeg is installed). Safe to re-run: a library
# already in place with the right checksum is kept.
#
# ONNX Runtime comes from the npm package onnxruntime-node, fetched with
# `npm pack` (which downloads the tarball and runs no install scripts); only
# its linux-x64 libonnxruntime.so.1 is extracted and its sha256 checked.
#
# Other platforms: install ONNX Runtime ≥ 1.24 yourself and set
# ONNXRUNTIME_SHARED_LIBRARY_PATH to its shared library (see README.md).
set -euo pipefail

ORT_VERSION=1.24.1
ORT_PACKAGE="onnxruntime-node@${ORT_VERSION}"
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ort_dir="$root/.ort"
ort_lib="$ort_dir/libonnxruntime.so.1"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }

missing=()
command -v go >/dev/null 2>&1 || missing+=("Go 1.26 or later: https://go.dev/dl/")
command -v gcc >/dev/null 2>&1 || missing+=("gcc (cgo needs it): sudo apt-get install gcc")

install_ort() {
	if [[ -n "${ONNXRUNTIME_SHARED_LIBRARY_PATH:-}" ]]; then
		[[ -f "$ONNXRUNTIME_SHARED_LIBRARY_PATH" ]] ||
			die "ONNXRUNTIME_SHARED_LIBRARY_PATH=$ONNXRUNTIME_SHARED_LIBRARY_PATH does not exist"
		say "using ONNX Runtime from ONNXRUNTIME_SHARED_LIBRARY_PATH=$ONNXRUNTIME_SHARED_LIBRARY_PATH"
		return
	fi
	if [[ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]]; then
		say "this script fetches ONNX Runtime for Linux x86-64 only; this is $(uname -s)/$(uname -m)."
		say "Install ONNX Runtime ${ORT_VERSION} or later (https://github.com/microsoft/onnxruntime/releases),"
		say "then: export ONNXRUNTIME_SHARED_LIBRARY_PATH=/path/to/libonnxruntime.so (or .dylib / .dll)"
		return
	fi
	if [[ -f "$ort_lib" && "$(sha256 "$ort_lib")" == "$ORT_SHA256" ]]; then
		say "ONNX Runtime ${ORT_VERSION} already in .ort/ (checksum ok)"
		return
	fi
	command -v npm >/dev/null 2>&1 ||
		die "npm is needed to fetch ONNX Runtime: sudo apt-get install nodejs npm (or set ONNXRUNTIME_SHARED_LIBRARY_PATH)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	say "fetching ${ORT_PACKAGE} with npm pack (no install scripts run)"
	(cd "$tmp" && npm pack --silent "$ORT_PACKAGE" >/dev/null) || die "npm pack ${ORT_PACKAGE} failed"
	local tgz=("$tmp"/onnxruntime-node-*.tgz)
	[[ -f "${tgz[0]}" ]] || die "npm pack left no tarball"
	say "extracting ${ORT_MEMBER#package/}"
	tar -xzf "${tgz[0]}" -C "$tmp" "$ORT_MEMBER" || die "${ORT_MEMBER} is not in the package"
	local got
	got=$(sha256 "$tmp/$ORT_MEMBER")
	[[ "$got" == "$ORT_SHA256" ]] ||
		die "checksum mismatch for libonnxruntime.so.1: got $got, want $ORT_SHA256; not installed"
	mkdir -p "$ort_dir"
	mv -f "$tmp/$ORT_MEMBER" "$ort_lib.tmp"
	mv -f "$ort_lib.tmp" "$ort_lib"
	say "installed ONNX Runtime ${ORT_VERSION} at .ort/libonnxruntime.so.1 (sha256 ok)"
}

if ((${#missing[@]})); then
	printf 'setup: missing: %s\n' "${missing[@]}" >&2
	install_ort
	exit 1
fi
install_ort

# With libjpeg-turbo's TurboJPEG library (Debian: libturbojpeg0-dev), big
# JPEGs are decoded at reduced size (build tag turbojpeg, captioner/jpeg_turbo.go);
# without it image/jpeg decodes every photo.
tags=()
if printf '#include <turbojpeg.h>\nint main(void) { return tjInitDecompress() == 0; }\n' |
	gcc -x c - -lturbojpeg -o /dev/null >/dev/null 2>&1; then
	tags=(-tags turbojpeg)
	say "libturbojpeg found: building with -tags turbojpeg (big JPEGs decode at reduced size)"
else
	say "libturbojpeg not found (sudo apt-get install libturbojpeg0-dev): JPEGs decode with image/jpeg"
fi
say "building ./captionbot"
(cd "$root" && CGO_ENABLED=1 go build "${tags[@]}" -o captionbot ./cmd/captionbot)
say "done. Try: go run ./cmd/captionbot caption testdata/photos/dog.jpg"
