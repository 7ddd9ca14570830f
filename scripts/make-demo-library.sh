#!/usr/bin/env bash
# A small library of real content, named as a phone or recorder names files, so that nothing
# in a file name gives away what is in it: what `scripts/run.sh` shows off without a FOLDER.
#   scripts/make-demo-library.sh MEDIA DIR
# MEDIA holds the sample media (../shared/media, or scripts/fetch-test-media.sh's folder: the
# scikit-image photos and the printed page, the LibriVox reading from pocketsphinx-testdata).
# Made here: a voice memo spoken by espeak-ng, and a short video of the photos with that voice
# over it. Does nothing when DIR is already made.
set -euo pipefail
media="$(cd "$1" && pwd)"
dir="$2"
[[ -f "$dir/VID_0004.mp4" ]] && exit 0
mkdir -p "$dir"
install -m 644 "$media/coffee.png" "$dir/IMG_0001.png"
install -m 644 "$media/chelsea.png" "$dir/IMG_0002.png"
install -m 644 "$media/astronaut.png" "$dir/IMG_0003.png"
install -m 644 "$media/page.png" "$dir/Scan_0001.png"
install -m 644 "$media/librivox-0870.wav" "$dir/Recording_001.wav"
memo="Remember to bring the blue umbrella to the picnic by the river on Saturday."
espeak-ng -v en-us -s 150 -w "$dir/Memo_002.wav" "$memo"
# Four seconds of each photo, the memo spoken over them.
scale='scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p'
ffmpeg -loglevel error -y \
  -loop 1 -framerate 25 -t 4 -i "$media/coffee.png" \
  -loop 1 -framerate 25 -t 4 -i "$media/chelsea.png" \
  -loop 1 -framerate 25 -t 4 -i "$media/astronaut.png" \
  -i "$dir/Memo_002.wav" \
  -filter_complex "[0]$scale[a];[1]$scale[b];[2]$scale[c];[a][b][c]concat=n=3:v=1[v];[3]adelay=1000:all=1,apad[s]" \
  -map "[v]" -map "[s]" -t 12 -c:v libx264 -g 50 -c:a aac "$dir/VID_0004.mp4"
