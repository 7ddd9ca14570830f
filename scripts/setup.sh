#!/usr/bin/env bash
# Installs what vx needs to build and run, only what is missing. Safe to run again.
#   Debian/Ubuntu: system packages with apt, and the ONNX Runtime library from PyPI's
#                  onnxruntime wheel, unpacked into a cache folder.
#   macOS:         prints the Homebrew command to run (it installs nothing itself).
set -euo pipefail

ORT_VERSION="${VX_ORT_VERSION:-1.31.1}"
CACHE_DIR="${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}"
ORT_DIR="$CACHE_DIR/onnxruntime-$ORT_VERSION"

say() { printf 'setup: %s\n' "$*" >&2; }

if [[ "$(uname -s)" == "Darwin" ]]; then
  say "macOS: install the build tools and libraries with Homebrew:"
  say "  brew install ffmpeg cmake nasm pkg-config llvm onnxruntime libde265 dav1d"
  say "then point ORT_DYLIB_PATH at \$(brew --prefix onnxruntime)/lib/libonnxruntime.dylib"
  exit 0
fi

PACKAGES=(libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libclang-dev cmake nasm ffmpeg pkg-config systemd
  # HEIC and AVIF: libheif is built from the libheif-rs crate's sources against these decoders
  libde265-dev libdav1d-dev
  # pip (and npm, below) fetch the ONNX Runtime wheel and the packages models are built from;
  # the conversions run in private Python virtual environments
  python3-pip python3-venv
  # test media only: a font for drawn text, a speech synthesiser for spoken sentences, and the
  # tools that make camera files as phones and cameras do (HEIC, WebP, BigTIFF, EXIF and QuickTime tags)
  fonts-dejavu-core espeak-ng libheif-examples webp libimage-exiftool-perl libtiff-tools
  # tests of `vx ui` in a real browser (headless, driven over WebDriver)
  chromium chromium-driver)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Any npm will do (Node.js from another source brings its own, which Debian's would conflict with).
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || { say "apt-get not found; install: ${missing[*]}"; exit 1; }
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  say "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages: all present"
fi

if [[ -f "$ORT_DIR/libonnxruntime.so" ]]; then
  say "ONNX Runtime $ORT_VERSION: present in $ORT_DIR"
else
  say "fetching ONNX Runtime $ORT_VERSION from the onnxruntime wheel on PyPI"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: "onnxruntime==$ORT_VERSION" -d "$tmp"
  wheel=$(ls "$tmp"/onnxruntime-*.whl)
  python3 - "$wheel" "$tmp" "$ORT_VERSION" <<'PY'
import sys, zipfile
wheel, out, ver = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    z.extract(f"onnxruntime/capi/libonnxruntime.so.{ver}", out)
PY
  mkdir -p "$ORT_DIR.tmp"
  mv "$tmp/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$ORT_DIR.tmp/"
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR.tmp/libonnxruntime.so"
  rm -rf "$ORT_DIR"; mv "$ORT_DIR.tmp" "$ORT_DIR"
  say "ONNX Runtime installed in $ORT_DIR"
fi
echo "ORT_DYLIB_PATH=$ORT_DIR/libonnxruntime.so"
