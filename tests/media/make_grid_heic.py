"""Writes a HEIC whose primary image is a grid of HEVC tiles, as iPhones store their photos.

heif-enc (libheif 1.15, Debian 12) writes one HEVC picture per image; libheif 1.18 and later
write grids through heif_context_encode_grid. pillow-heif (PyPI) ships such a libheif, which
this script calls directly.

    python make_grid_heic.py SOURCE.png OUT.heic TILE
SOURCE is cropped to whole tiles (its top-left corner); the grid is rows x columns of TILE px.
"""

import ctypes
import glob
import os
import sys

import pillow_heif
from PIL import Image


class HeifError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]


COLORSPACE_RGB, CHROMA_INTERLEAVED_RGB, CHANNEL_INTERLEAVED, COMPRESSION_HEVC = 1, 10, 10, 1


def load_libheif():
    libs = os.path.join(os.path.dirname(pillow_heif.__file__), "..", "pillow_heif.libs")
    (path,) = glob.glob(os.path.join(libs, "libheif-*.so*"))
    lib = ctypes.CDLL(path)
    p = ctypes.c_void_p
    for name, args in {
        "heif_image_create": [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(p)],
        "heif_image_add_plane": [p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int],
        "heif_context_get_encoder_for_format": [p, ctypes.c_int, ctypes.POINTER(p)],
        "heif_encoder_set_lossy_quality": [p, ctypes.c_int],
        "heif_context_encode_grid": [p, ctypes.POINTER(p), ctypes.c_uint16, ctypes.c_uint16, p, p, ctypes.POINTER(p)],
        "heif_context_write_to_file": [p, ctypes.c_char_p],
    }.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = HeifError
    lib.heif_context_alloc.restype = p
    lib.heif_image_get_plane.argtypes = [p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.heif_image_get_plane.restype = ctypes.POINTER(ctypes.c_uint8)
    return lib


def check(err):
    if err.code != 0:
        raise SystemExit(f"libheif: {err.message.decode()}")


def rgb_image(lib, tile):
    image = ctypes.c_void_p()
    w, h = tile.size
    check(lib.heif_image_create(w, h, COLORSPACE_RGB, CHROMA_INTERLEAVED_RGB, ctypes.byref(image)))
    check(lib.heif_image_add_plane(image, CHANNEL_INTERLEAVED, w, h, 8))
    stride = ctypes.c_int()
    plane = lib.heif_image_get_plane(image, CHANNEL_INTERLEAVED, ctypes.byref(stride))
    data = tile.tobytes()
    for row in range(h):
        ctypes.memmove(ctypes.addressof(plane.contents) + row * stride.value, data[row * w * 3 :], w * 3)
    return image


def main(source, out, tile):
    picture = Image.open(source).convert("RGB")
    columns, rows = picture.width // tile, picture.height // tile
    lib = load_libheif()
    tiles = [
        rgb_image(lib, picture.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile)))
        for r in range(rows)
        for c in range(columns)
    ]
    ctx = lib.heif_context_alloc()
    encoder = ctypes.c_void_p()
    check(lib.heif_context_get_encoder_for_format(ctx, COMPRESSION_HEVC, ctypes.byref(encoder)))
    check(lib.heif_encoder_set_lossy_quality(encoder, 90))
    handle = ctypes.c_void_p()
    array = (ctypes.c_void_p * len(tiles))(*[t.value for t in tiles])
    # heif.h names the counts (rows, columns), but libheif's definition reads (columns, rows).
    check(lib.heif_context_encode_grid(ctx, array, columns, rows, encoder, None, ctypes.byref(handle)))
    check(lib.heif_context_write_to_file(ctx, out.encode()))
    print(f"{out}: {rows} x {columns} tiles of {tile} px")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
