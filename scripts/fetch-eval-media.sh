#!/usr/bin/env bash
# The real media of the second judged set (tests/eval/real.json), into DIR (default:
# ~/.cache/vx/eval-media), checked against tests/eval/real-media.SHA256SUMS. Prints DIR.
# Taken unchanged from Debian bookworm packages, under neutral camera-style names so that no
# file name gives an answer away (tests/eval/real.json says which file is which):
#   opencv-doc 4.6.0+dfsg-12       OpenCV's sample photos, scene-text photos and videos
#                                  (examples/data, text, alphamat, hfs, ximgproc, fuzzy)
#   darknet 0.0.0+git20180914...   darknet's data folder (dog, eagle, giraffe, horses, kite,
#                                  person, scream)
#   pocketsphinx-testdata 0.8+...  read speech: cards, LibriVox, and three raw 16 kHz
#                                  recordings given a WAV header here (the samples unchanged)
#   asterisk-core-sounds-en-wav 1.6.1-1  Allison Smith's voice prompts (CC-BY-SA 3.0)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sums="$root/tests/eval/real-media.SHA256SUMS"
dest="${1:-${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}/eval-media}"
name=fetch-eval-media
. "$root/scripts/lib/fetched-media.sh"
media_begin
say "opencv-doc, darknet, pocketsphinx-testdata and asterisk-core-sounds-en-wav from Debian"
get opencv-doc=4.6.0+dfsg-12
get darknet=0.0.0+git20180914.61c9d02e-2+b4
get pocketsphinx-testdata=0.8+5prealpha+1-15
get asterisk-core-sounds-en-wav=1.6.1-1
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
cv="$tmp/x/usr/share/doc/opencv-doc/examples"
dk="$tmp/x/usr/share/darknet/data"
ps="$tmp/x/usr/share/pocketsphinx/test/data"
al="$tmp/x/usr/share/asterisk/sounds/en_US_f_Allison"

# NAME SOURCE: the name here, the file in the package.
while read -r file src; do
  [[ -z $file || $file == \#* ]] && continue
  case $src in
    raw:*) python3 - "$(eval echo "${src#raw:}")" "$out/$file" <<'PY'
import struct, sys
# pocketsphinx's raw test recordings: 16 kHz, 16-bit little-endian, mono.
pcm = open(sys.argv[1], "rb").read()
head = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack(
    "<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", len(pcm))
open(sys.argv[2], "wb").write(head + pcm)
PY
      ;;
    *) cp "$(eval echo "$src")" "$out/$file" ;;
  esac
done < "$root/tests/eval/real-media.list"
cp "$tmp/x/usr/share/doc/opencv-doc/copyright" "$out/COPYRIGHT-opencv-doc.txt"
cp "$tmp/x/usr/share/doc/darknet/copyright" "$out/COPYRIGHT-darknet.txt"
cp "$tmp/x/usr/share/doc/pocketsphinx-testdata/copyright" "$out/COPYRIGHT-pocketsphinx-testdata.txt"
cp "$tmp/x/usr/share/doc/asterisk-core-sounds-en-wav/copyright" "$out/COPYRIGHT-asterisk-core-sounds.txt"

media_install
