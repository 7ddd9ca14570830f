#!/usr/bin/env bash
# Real recordings of sounds other than speech and real photos of people, for the audio-event
# and pose tests, into DIR (default: ~/.cache/vx/package-media), taken unchanged from Debian
# bookworm packages (and one PyPI wheel) and checked against tests/media/package-media.SHA256SUMS. Prints DIR.
#   dog.ogg cat.ogg cow.ogg   farm animals, from gcompris-qt-data 3.1-2 (explore_farm_animals,
#                             GPL-3)
#   ireland.ogg japan.ogg     a fiddle tune and taiko drums, from the same package
#                             (explore_world_music; CC-BY 3.0 and CC0, sources in README-music)
#   ireland.webp australia.webp italy.webp  photos from the same activity: four musicians
#                             seated on a stage, a man seated playing a didgeridoo, a man
#                             standing on a stage (CC-BY 2.0, Public Domain, CC0)
#   phone.oga                 a phone ringing: phone-incoming-call.oga from
#                             sound-theme-freedesktop 0.8-2
#   allison-*.wav             a professional voice-prompt speaker (Allison Smith), 8 kHz, from
#                             asterisk-core-sounds-en-wav 1.6.1-1 (CC-BY-SA 3.0): demo-thanks,
#                             vm-intro, dir-usingkeypad, vm-newuser
#   librivox-0890.wav librivox-0920.wav  more of the LibriVox reader of the shared media, from
#                             pocketsphinx-testdata 0.8+5prealpha+1-15
#   cards-005.wav             another reader (cards/005.wav of the same package)
#   bus.jpg                   two men standing in a street, whole, from the ultralytics 8.3.0
#                             wheel on PyPI (ultralytics/assets/bus.jpg; AGPL-3.0), for motion
# gcompris keeps its files in Qt resource bundles (.rcc); they are read out here with Python's
# standard library.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sums="$root/tests/media/package-media.SHA256SUMS"
dest="${1:-${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}/package-media}"
name=fetch-package-media
. "$root/scripts/lib/fetched-media.sh"
media_begin

say "gcompris-qt-data, sound-theme-freedesktop, asterisk-core-sounds-en-wav and pocketsphinx-testdata from Debian"
get gcompris-qt-data=3.1-2
get sound-theme-freedesktop=0.8-2
get asterisk-core-sounds-en-wav=1.6.1-1
get pocketsphinx-testdata=0.8+5prealpha+1-15
dpkg-deb -x "$tmp"/gcompris-qt-data_*.deb "$tmp/gc"
dpkg-deb -x "$tmp"/sound-theme-freedesktop_*.deb "$tmp/fd"
rcc="$tmp/gc/usr/share/gcompris-qt/rcc"
python3 - "$out" "$rcc/explore_farm_animals.rcc" farm "$rcc/explore_world_music.rcc" music <<'PY'
import os, struct, sys, zlib

def files(path):
    """(path, bytes) of every file in a Qt resource bundle (format 1-3, zlib or uncompressed)."""
    b = open(path, "rb").read()
    assert b[:4] == b"qres", path
    version, tree, data, names = struct.unpack(">IIII", b[4:20])
    entry = 14 if version == 1 else 22
    def name(off):
        n, = struct.unpack(">H", b[names + off:names + off + 2])
        return b[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")
    def walk(i, prefix):
        e = tree + i * entry
        noff, flags = struct.unpack(">IH", b[e:e + 6])
        here = prefix + (name(noff) if i else "")
        if flags & 2:
            count, first = struct.unpack(">II", b[e + 6:e + 14])
            for c in range(first, first + count):
                yield from walk(c, here + "/")
        else:
            off, = struct.unpack(">I", b[e + 10:e + 14])
            n, = struct.unpack(">I", b[data + off:data + off + 4])
            raw = b[data + off + 4:data + off + 4 + n]
            assert not flags & 4, f"{here}: zstd-compressed"
            yield here, zlib.decompress(raw[4:]) if flags & 1 else raw
    yield from walk(0, "")

out = sys.argv[1]
wanted = {"farm": {"dog.ogg", "cat.ogg", "cow.ogg", "README"}, "music": {"ireland.ogg", "japan.ogg", "ireland.webp", "australia.webp", "italy.webp", "README"}}
for bundle, kind in zip(sys.argv[2::2], sys.argv[3::2]):
    for path, raw in files(bundle):
        base = os.path.basename(path)
        if base in wanted[kind] and "/resource/" in path:
            dst = f"README-{kind}" if base == "README" else base
            with open(os.path.join(out, dst), "wb") as f:
                f.write(raw)
PY
cp "$tmp/fd/usr/share/sounds/freedesktop/stereo/phone-incoming-call.oga" "$out/phone.oga"
cp "$tmp/gc/usr/share/doc/gcompris-qt-data/copyright" "$out/COPYRIGHT-gcompris-qt-data.txt"
cp "$tmp/fd/usr/share/doc/sound-theme-freedesktop/copyright" "$out/COPYRIGHT-sound-theme-freedesktop.txt"
dpkg-deb -x "$tmp"/asterisk-core-sounds-en-wav_*.deb "$tmp/ast"
dpkg-deb -x "$tmp"/pocketsphinx-testdata_*.deb "$tmp/ps"
allison="$tmp/ast/usr/share/asterisk/sounds/en_US_f_Allison"
for p in thanks:demo-thanks intro:vm-intro keypad:dir-usingkeypad newuser:vm-newuser; do
  cp "$allison/${p#*:}.wav" "$out/allison-${p%%:*}.wav"
done
cp "$tmp/ast/usr/share/doc/asterisk-core-sounds-en-wav/copyright" "$out/COPYRIGHT-asterisk-core-sounds.txt"
ps="$tmp/ps/usr/share/pocketsphinx/test/data"
for n in 0890 0920; do
  cp "$ps/librivox/sense_and_sensibility_01_austen_64kb-$n.wav" "$out/librivox-$n.wav"
done
cp "$ps/cards/005.wav" "$out/cards-005.wav"
say "the ultralytics 8.3.0 wheel from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: ultralytics==8.3.0 -d "$tmp"
python3 - "$tmp"/ultralytics-8.3.0-py3-none-any.whl "$out" <<'PY'
import sys, zipfile
wheel = zipfile.ZipFile(sys.argv[1])
for member, dst in [("ultralytics/assets/bus.jpg", "bus.jpg"),
                    ("ultralytics-8.3.0.dist-info/LICENSE", "COPYRIGHT-ultralytics.txt")]:
    with open(f"{sys.argv[2]}/{dst}", "wb") as f:
        f.write(wheel.read(member))
PY

media_install
