#!/usr/bin/env bash
# The sample media of the tests (../shared/media/README.md lists them), taken unchanged from the
# registry packages they came from, into DIR (default: ~/.cache/vx/test-media), and checked
# against tests/media/SHA256SUMS. Does nothing when DIR already holds them all. Prints DIR.
#   scikit-image 0.26.0 (PyPI wheel):        the four photos and the licence
#   pocketsphinx-testdata (Debian bookworm): the two LibriVox clips, their transcripts, copyright
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sums="$root/tests/media/SHA256SUMS"
dest="${1:-${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}/test-media}"
say() { printf 'fetch-test-media: %s\n' "$*" >&2; }

if [[ -f "$dest/SHA256SUMS" ]] && (cd "$dest" && sha256sum --quiet --check SHA256SUMS >/dev/null 2>&1); then
  echo "$dest"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/media"
mkdir -p "$out"

say "scikit-image 0.26.0 from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: scikit-image==0.26.0 -d "$tmp/wheel"
python3 - "$tmp"/wheel/scikit_image-0.26.0-*.whl "$out" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1:]
names = {f"skimage/data/{n}.png": f"{n}.png" for n in ("astronaut", "chelsea", "coffee", "page")}
names["scikit_image-0.26.0.dist-info/LICENSE.txt"] = "LICENSE-scikit-image.txt"
with zipfile.ZipFile(wheel) as z:
    for src, dst in names.items():
        with open(f"{out}/{dst}", "wb") as f:
            f.write(z.read(src))
PY

say "pocketsphinx-testdata 0.8+5prealpha+1-15 from Debian"
command -v apt-get >/dev/null || { say "apt-get not found: set VX_TEST_MEDIA to a copy of ../shared/media"; exit 1; }
(cd "$tmp" && { apt-get download -qq pocketsphinx-testdata=0.8+5prealpha+1-15 2>/dev/null ||
  { apt-get update -qq && apt-get download -qq pocketsphinx-testdata=0.8+5prealpha+1-15; }; })
dpkg-deb -x "$tmp"/pocketsphinx-testdata_*.deb "$tmp/deb"
librivox="$tmp/deb/usr/share/pocketsphinx/test/data/librivox"
for clip in 0870 0880; do
  id="sense_and_sensibility_01_austen_64kb-$clip"
  cp "$librivox/$id.wav" "$out/librivox-$clip.wav"
  # The package's transcription line "<s> words </s> (id)", as the words alone.
  sed -n "s/^<s> \(.*\) <\/s> ($id)\$/\1/p" "$librivox/transcription" >"$out/librivox-$clip.txt"
done
cp "$tmp/deb/usr/share/doc/pocketsphinx-testdata/copyright" "$out/COPYRIGHT-pocketsphinx-testdata.txt"

cp "$sums" "$out/SHA256SUMS"
if ! (cd "$out" && sha256sum --quiet --check SHA256SUMS); then
  say "the files differ from tests/media/SHA256SUMS: not installed"
  exit 1
fi
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.old"
[[ -e $dest ]] && mv "$dest" "$dest.old"
mv "$out" "$dest"
rm -rf "$dest.old"
say "$(wc -l <"$sums") files in $dest"
echo "$dest"
