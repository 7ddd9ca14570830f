"""Resemblyzer's GE2E speaker encoder from its PyTorch checkpoint to ONNX, without torch.

Usage: resemblyzer_to_onnx.py PRETRAINED.pt OUT.onnx

pretrained.pt (legacy serialisation, read by torch_legacy.py) holds three stacked LSTM layers of
256 and a Linear 256 under "model_state". The graph (opset 13) takes `wav` [N, S], 16 kHz mono,
and computes librosa's melspectrogram inside (n_fft 400, hop 160, periodic Hann, centred with
zero padding, power 2, 40 Slaney mel bands, no log) as a convolution with the windowed DFT
basis, then the three ONNX LSTM ops (torch's gate order i, f, g, o rearranged to ONNX's i, o, f,
c), the last hidden state through Linear and ReLU, and L2 normalisation: `embedding` [N, 256].
Names, order and metadata follow the pack in ../shared/models.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pack_model import dft_basis, pack_model
from torch_legacy import load_pth

RATE, N_FFT, HOP, MELS, HIDDEN = 16000, 400, 160, 40, 256
METADATA = {
    "source": "PyPI resemblyzer==0.1.4 resemblyzer/pretrained.pt (GE2E 3x LSTM-256, Apache-2.0)",
    "features": "librosa.feature.melspectrogram(sr=16000,n_fft=400,hop_length=160,n_mels=40)"
    " power=2, slaney mel, not log; 160 frames (1.6 s) per partial",
    "output": "ReLU + L2-normalised 256-d embedding; utterance embedding = L2-normalised mean of"
    " partial embeddings",
}


def hz_to_mel(f):
    """Slaney's scale: linear to 1 kHz, logarithmic above (librosa's htk=False)."""
    f = np.asanyarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz,
        min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep,
        f / f_sp,
    )


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters():
    """[bins, MELS]: librosa.filters.mel(sr=16000, n_fft=400, n_mels=40), Slaney-normalised,
    transposed to multiply a power spectrum on the right."""
    fft_freqs = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(RATE / 2), MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : MELS + 2] - mel_f[:MELS]))[:, None]
    return weights.astype(np.float32).T.copy()


def onnx_gates(w):
    """torch's LSTM gate blocks (i, f, g, o) in ONNX's order (i, o, f, c)."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def reduce_l2():
    """ReduceL2 over axis 1 with its attributes in the pack's order (make_node sorts them)."""
    node = helper.make_node("ReduceL2", ["raw"], ["nrm"])
    node.attribute.extend([helper.make_attribute("keepdims", 1), helper.make_attribute("axes", [1])])
    return node


def build(sd):
    inits = [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "ax0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "ax1"),
        numpy_helper.from_array(dft_basis(N_FFT, N_FFT), "dft"),
        numpy_helper.from_array(mel_filters(), "melW"),
    ]
    for layer in range(3):
        p = f"lstm.{{}}_l{layer}"
        w = onnx_gates(sd[p.format("weight_ih")])[None]
        r = onnx_gates(sd[p.format("weight_hh")])[None]
        b = np.concatenate([onnx_gates(sd[p.format("bias_ih")]), onnx_gates(sd[p.format("bias_hh")])])
        for name, value in ((f"W{layer}", w), (f"R{layer}", r), (f"B{layer}", b[None])):
            inits.append(numpy_helper.from_array(value.astype(np.float32), name))
    inits.append(numpy_helper.from_array(sd["linear.weight"].astype(np.float32), "lin_W"))
    inits.append(numpy_helper.from_array(sd["linear.bias"].astype(np.float32), "lin_b"))

    pad = N_FFT // 2
    nodes = [
        helper.make_node("Unsqueeze", ["wav", "ax1"], ["wav3"]),
        helper.make_node("Conv", ["wav3", "dft"], ["spec"], pads=[pad, pad], strides=[HOP]),
        helper.make_node("Mul", ["spec", "spec"], ["sq"]),
        helper.make_node("Split", ["sq"], ["re2", "im2"], axis=1),
        helper.make_node("Add", ["re2", "im2"], ["pow"]),
        helper.make_node("Transpose", ["pow"], ["powT"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["powT", "melW"], ["mels"]),
        helper.make_node("Transpose", ["mels"], ["x_tnc"], perm=[1, 0, 2]),
    ]
    x = "x_tnc"
    for layer in range(3):
        nodes.append(
            helper.make_node(
                "LSTM",
                [x, f"W{layer}", f"R{layer}", f"B{layer}"],
                [f"Y{layer}", f"Yh{layer}", f"Yc{layer}"],
                name=f"lstm{layer}",
                hidden_size=HIDDEN,
            )
        )
        nodes.append(helper.make_node("Squeeze", [f"Y{layer}", "ax1"], [f"Ys{layer}"]))
        x = f"Ys{layer}"
    nodes += [
        helper.make_node("Squeeze", ["Yh2", "ax0"], ["hid"]),
        helper.make_node("Gemm", ["hid", "lin_W", "lin_b"], ["lin"], transB=1),
        helper.make_node("Relu", ["lin"], ["raw"]),
        reduce_l2(),
        helper.make_node("Div", ["raw", "nrm"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "resemblyzer_ge2e",
        [helper.make_tensor_value_info("wav", TensorProto.FLOAT, ["N", "S"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", HIDDEN])],
        inits,
    )
    return pack_model(graph, "build_resemblyzer_onnx.py", METADATA)


def main():
    src, out = sys.argv[1], sys.argv[2]
    onnx.save(build(load_pth(src, "model_state")), out)


if __name__ == "__main__":
    main()
