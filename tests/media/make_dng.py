"""Writes a camera DNG the way a raw camera would: the Bayer mosaic (RGGB, 12 bits) of a photo,
with PiDNG (PyPI), colour matrix, as-shot white balance and an EXIF orientation; no preview.
    python make_dng.py SOURCE.png OUT.dng [ORIENTATION]"""
import sys

import numpy as np
from PIL import Image
from pidng.core import RAW2DNG, DNGTags, Tag
from pidng.defs import CFAPattern, CalibrationIlluminant, DNGVersion, PhotometricInterpretation

src, out = sys.argv[1], sys.argv[2]
orientation = int(sys.argv[3]) if len(sys.argv) > 3 else 1
# Stored as the sensor lay: turned so that the orientation tag stands it up again.
turn = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
picture = Image.open(src).convert("RGB")
if turn[orientation]:
    picture = picture.transpose(turn[orientation])
rgb = np.asarray(picture, dtype=np.float64) / 255.0
h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
# Back to linear light, and the green channel weakened as a sensor's white balance would undo.
lin = rgb[:h, :w] ** 2.2
gains = np.array([0.5, 1.0, 0.7])
lin = lin * gains
mosaic = np.zeros((h, w), dtype=np.float64)
mosaic[0::2, 0::2] = lin[0::2, 0::2, 0]
mosaic[0::2, 1::2] = lin[0::2, 1::2, 1]
mosaic[1::2, 0::2] = lin[1::2, 0::2, 1]
mosaic[1::2, 1::2] = lin[1::2, 1::2, 2]
raw = (mosaic * 4095).round().astype(np.uint16)

t = DNGTags()
t.set(Tag.ImageWidth, w)
t.set(Tag.ImageLength, h)
t.set(Tag.TileWidth, w)
t.set(Tag.TileLength, h)
t.set(Tag.Orientation, orientation)
t.set(Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array)
t.set(Tag.SamplesPerPixel, 1)
t.set(Tag.BitsPerSample, 12)
t.set(Tag.CFARepeatPatternDim, [2, 2])
t.set(Tag.CFAPattern, CFAPattern.RGGB)
t.set(Tag.BlackLevel, 0)
t.set(Tag.WhiteLevel, 4095)
# XYZ to camera: the sensor here sees linear sRGB.
xyz_to_srgb = [3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570]
t.set(Tag.ColorMatrix1, [[round(v * 10000), 10000] for v in xyz_to_srgb])
t.set(Tag.CalibrationIlluminant1, CalibrationIlluminant.D65)
t.set(Tag.AsShotNeutral, [[1, 2], [1, 1], [7, 10]])
t.set(Tag.BaselineExposure, [[0, 1]])
t.set(Tag.Make, "PiDNG")
t.set(Tag.Model, "Test Camera")
t.set(Tag.DNGVersion, DNGVersion.V1_4)
t.set(Tag.DNGBackwardVersion, DNGVersion.V1_2)
t.set(Tag.PreviewColorSpace, 2)

writer = RAW2DNG()
writer.options(t, path="", compress=False)
writer.convert(raw, filename=out.removesuffix(".dng"))
