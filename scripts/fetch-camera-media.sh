#!/usr/bin/env bash
# Camera RAW test files, into DIR (default: ~/.cache/vx/camera-media). Prints DIR.
#   IMG_5952.CR2      a Canon EOS 30D raw with its 1728x1152 JPEG preview, taken unchanged from
#                     Debian's rawtran-doc 1.1-1 (GPL-3+, checked against its SHA-256)
#   park.heic         an iPhone 7 photo (a grid of tiles, GPS, EXIF) cut after its first 50,000
#                     bytes, so that its tiles are missing: from Debian's golang-go4-dev (Apache-2.0)
#   chelsea-turned.dng a DNG without a preview, written by PiDNG (PyPI) from the scikit-image cat
#                     (tests/media/make_dng.py): a 12-bit RGGB mosaic stored a quarter turn off,
#                     with EXIF orientation 6 to stand it up
#   coffee-grid.heic  the top-left 512x384 of coffee.png as a 4x3 grid of 128 px HEVC tiles, as
#                     iPhones store photos: written by the libheif 1.23 that pillow-heif (PyPI)
#                     ships (tests/media/make_grid_heic.py)
# MEDIA (default: $VX_TEST_MEDIA, else ../shared/media) provides chelsea.png and coffee.png.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}/camera-media}"
media="${2:-${VX_TEST_MEDIA:-$root/../shared/media}}"
cr2_sum=9f4958fb43824fdc1defb6b262f8bacedb1879041b2d5f60dc5225ee1049d554
park_sum=fe6e98af7bec4348fa0986494d7cf7eb71237a947bb8ae66bc3bcb1b115ec08c
say() { printf 'fetch-camera-media: %s\n' "$*" >&2; }

if [[ -f $dest/chelsea-turned.dng && -f $dest/coffee-grid.heic ]] &&
  printf '%s  %s\n' "$cr2_sum" "$dest/IMG_5952.CR2" "$park_sum" "$dest/park.heic" | sha256sum --quiet --check >/dev/null 2>&1; then
  echo "$dest"
  exit 0
fi
[[ -f $media/chelsea.png && -f $media/coffee.png ]] || { say "no chelsea.png or coffee.png in $media (scripts/fetch-test-media.sh fetches it)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
mkdir -p "$out"

say "rawtran-doc 1.1-1 from Debian"
(cd "$tmp" && { apt-get download -qq rawtran-doc=1.1-1 2>/dev/null ||
  { apt-get update -qq && apt-get download -qq rawtran-doc=1.1-1; }; })
dpkg-deb -x "$tmp"/rawtran-doc_*.deb "$tmp/deb"
cp "$tmp/deb/usr/share/doc/rawtran/IMG_5952.CR2" "$out/"
cp "$tmp/deb/usr/share/doc/rawtran-doc/copyright" "$out/COPYRIGHT-rawtran-doc.txt"
echo "$cr2_sum  $out/IMG_5952.CR2" | sha256sum --quiet --check

say "golang-go4-dev 0.0~git20201209.d4a0794-1 from Debian"
(cd "$tmp" && apt-get download -qq golang-go4-dev=0.0~git20201209.d4a0794-1)
dpkg-deb -x "$tmp"/golang-go4-dev_*.deb "$tmp/go4"
cp "$tmp/go4/usr/share/gocode/src/go4.org/media/heif/testdata/park.heic" "$out/"
cp "$tmp/go4/usr/share/doc/golang-go4-dev/copyright" "$out/COPYRIGHT-golang-go4-dev.txt"
echo "$park_sum  $out/park.heic" | sha256sum --quiet --check

say "PiDNG 4.0.9 and pillow-heif 1.8.1 from PyPI"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet pidng==4.0.9 pillow-heif==1.8.1 pillow
"$tmp/venv/bin/python" "$root/tests/media/make_dng.py" "$media/chelsea.png" "$out/chelsea-turned.dng" 6
"$tmp/venv/bin/python" "$root/tests/media/make_grid_heic.py" "$media/coffee.png" "$out/coffee-grid.heic" 128 >&2

mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$out" "$dest"
echo "$dest"
