"""What the pack's graph builders share: the audio front ends' DFT basis, and the envelope they
gave their models."""

import numpy as np
import onnx
from onnx import helper


def dft_basis(frame, fft):
    """[2 * bins, 1, frame]: a convolution kernel of the periodic-Hann-windowed cosines, then the
    negated sines, of each of the fft // 2 + 1 bins (a frame shorter than fft is zero-padded)."""
    n = np.arange(frame)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / frame)
    k = np.arange(fft // 2 + 1)[:, None]
    angle = 2 * np.pi * k * n / fft
    basis = np.concatenate([np.cos(angle) * window, -np.sin(angle) * window])
    return basis[:, None, :].astype(np.float32)


def pack_model(graph, builder, metadata):
    """IR 7, opset 13, the builder named as producer, the metadata entries in order; checked."""
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name=f"vx-mseed {builder}",
        ir_version=7,
    )
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model
