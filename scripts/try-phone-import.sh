#!/usr/bin/env bash
# A phone import as a person would make it, against the real vx and vxd: HEIC photos with GPS
# from three cities, a portrait HEVC clip, a Live Photo, an animated GIF, camera RAWs (a real
# Canon CR2, a DNG, a damaged NEF), a WhatsApp folder with .nomedia and an Apple Photos library,
# moved into a watched folder and renamed while indexed; then the searches a person would try.
# Prints what it sees; needs what scripts/setup.sh installs (heif-enc, exiftool, ffmpeg with
# libx265) and scripts/fetch-camera-media.sh's files.
set -u
cd "$(dirname "$0")/.."
B=$PWD/target/debug
[[ -x $B/vx && -x $B/vxd ]] || cargo build --workspace --bins
W=$(mktemp -d); export VX_DATA_DIR=$W/data VX_SOCKET=$W/vx.sock
[[ -d ../shared/models ]] && export VX_MODELS_DIR=$(cd ../shared/models && pwd)
M=$W/Pictures; mkdir -p "$M"
$B/vx daemon start
$B/vx add "$M"
# The import: 60 HEIC photos from three cities, a portrait clip, two RAWs, a Photos library
S=$W/stage; mkdir -p "$S"
ffmpeg -loglevel error -f lavfi -i testsrc2=s=640x480:d=2:r=30 -frames:v 60 "$S/f_%03d.jpg"
i=0
for f in "$S"/f_*.jpg; do
  i=$((i+1))
  case $((i % 3)) in 0) lat=41.8986 lon=12.4769;; 1) lat=48.8606 lon=2.3376;; 2) lat=35.6895 lon=139.6917;; esac
  exiftool -q -overwrite_original -GPSLatitude=$lat -GPSLatitudeRef=N -GPSLongitude=$lon -GPSLongitudeRef=E "-DateTimeOriginal=2023:07:0$((i%9+1)) 10:00:00" -Make=Apple "-Model=iPhone 14" "$f"
  heif-enc -q 70 "$f" -o "$S/IMG_$(printf %04d $i).HEIC" >/dev/null 2>&1
done
rm "$S"/f_*.jpg
ffmpeg -loglevel error -f lavfi -i testsrc=s=640x360:d=4 -vf transpose=cclock -c:v libx265 -x265-params log-level=error -tag:v hvc1 "$S/IMG_0100.MOV"
exiftool -q -overwrite_original -Rotation=90 '-Keys:GPSCoordinates=41.8986, 12.4769' "$S/IMG_0100.MOV"
CAM=$(./scripts/fetch-camera-media.sh)
cp "$CAM/IMG_5952.CR2" "$S/"; cp "$CAM/chelsea-turned.dng" "$S/DSC_0002.DNG"
head -c 200000 /dev/urandom > "$S/DSC_0001.NEF"
# A Live Photo: the still and three seconds of clip with speech, one name.
cp "$S/IMG_0003.HEIC" "$S/IMG_0200.HEIC"
espeak-ng -w "$W/say.wav" "the fireworks over the harbour were beautiful"
ffmpeg -loglevel error -f lavfi -i testsrc2=s=480x360:d=3 -i "$W/say.wav" -t 3 -c:v libx265 -x265-params log-level=error -tag:v hvc1 -c:a aac "$S/IMG_0200.MOV"
ffmpeg -loglevel error -f lavfi -i testsrc=s=320x240:d=3:r=5 "$S/funny.gif"
mkdir -p "$S/WhatsApp/Media"; cp "$S/IMG_0004.HEIC" "$S/WhatsApp/Media/"; touch "$S/WhatsApp/.nomedia"
mkdir -p "$W/lib.photoslibrary/originals/0" "$W/lib.photoslibrary/resources/derivatives/0"
cp "$S/IMG_0001.HEIC" "$W/lib.photoslibrary/originals/0/"; cp "$S/IMG_0002.HEIC" "$W/lib.photoslibrary/resources/derivatives/0/"
t0=$(date +%s%N)
mv "$S" "$M/untitled folder"; mv "$W/lib.photoslibrary" "$M/"
sleep 1.5; mv "$M/untitled folder" "$M/Summer 2023"
$B/vx wait --timeout 300; echo "wait rc=$? after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
$B/vx status | head -12
echo "--- search rome"; $B/vx search rome --limit 100 --json | python3 -c 'import json,sys; r=json.load(sys.stdin)["results"]; print(len(r), sorted({p["path"].split("/")[-2] for p in r}))'
echo "--- search tokyo"; $B/vx search "tokyo japan" --limit 100 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))'
echo "--- near paris"; $B/vx search --near Paris --limit 100 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))'
echo "--- camera iphone 14"; $B/vx search --camera "iphone 14" --limit 100 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))'
$B/vx show "$M/Summer 2023/IMG_0100.MOV" | head -14
$B/vx show "$M/Summer 2023/DSC_0001.NEF" | head -4
echo "--- search fireworks (the Live Photo, once)"; $B/vx search fireworks | head -4
echo "--- search cat (the DNG)"; $B/vx search cat | head -3
echo "--- camera canon"; $B/vx search --camera canon | head -2
$B/vx show "$M/Summer 2023/funny.gif" | sed -n 1,8p
$B/vx roots
$B/vx daemon stop
echo "the library and vx's data are in $W"
