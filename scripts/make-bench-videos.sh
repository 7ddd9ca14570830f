#!/usr/bin/env bash
# The 60 s 1080p benchmark videos, into DIR (the benchmark scripts call this):
#   talk_1080p.mp4         the four sample pictures in turn, three rounds, the reading throughout
#   music_then_speech.mp4  one picture; 40 s of a fiddle tune, then 20 s of the reading
#   music_only.mp4         one picture; the fiddle tune, then taiko drums
# Each with a keyframe every 2 s, H.264 and AAC. The recordings come from
# scripts/fetch-package-media.sh, the pictures and the reading from ../shared/media.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
mkdir -p "$out"
MEDIA="$(cd ../shared/media && pwd)"
SOUNDS="$(./scripts/fetch-package-media.sh)"
scale='scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p'
encode=(-t 60 -r 25 -g 50 -keyint_min 50 -sc_threshold 0 -c:v libx264 -pix_fmt yuv420p -c:a aac)
mono='aresample=16000,aformat=channel_layouts=mono'
ffmpeg -loglevel error -y \
  -loop 1 -framerate 25 -t 5 -i "$MEDIA/astronaut.png" -loop 1 -framerate 25 -t 5 -i "$MEDIA/chelsea.png" \
  -loop 1 -framerate 25 -t 5 -i "$MEDIA/coffee.png" -loop 1 -framerate 25 -t 5 -i "$MEDIA/page.png" \
  -stream_loop -1 -i "$MEDIA/librivox-0870.wav" \
  -filter_complex "[0]$scale[a];[1]$scale[b];[2]$scale[c];[3]$scale[d];[a][b][c][d]concat=n=4:v=1:a=0,loop=loop=2:size=500:start=0[v]" \
  -map "[v]" -map 4:a "${encode[@]}" "$out/talk_1080p.mp4"
ffmpeg -loglevel error -y \
  -loop 1 -framerate 25 -t 60 -i "$MEDIA/coffee.png" -t 40 -i "$SOUNDS/ireland.ogg" \
  -stream_loop -1 -i "$MEDIA/librivox-0870.wav" \
  -filter_complex "[0]$scale[v];[1]$mono[m];[2]atrim=0:20[s];[m][s]concat=n=2:v=0:a=1[a]" \
  -map "[v]" -map "[a]" "${encode[@]}" "$out/music_then_speech.mp4"
ffmpeg -loglevel error -y \
  -loop 1 -framerate 25 -t 60 -i "$MEDIA/coffee.png" -i "$SOUNDS/ireland.ogg" -i "$SOUNDS/japan.ogg" \
  -filter_complex "[0]$scale[v];[1]$mono[m];[2]$mono[n];[m][n]concat=n=2:v=0:a=1[a]" \
  -map "[v]" -map "[a]" "${encode[@]}" "$out/music_only.mp4"
