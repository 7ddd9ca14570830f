"""all-MiniLM-L6-v2 from its safetensors to an ONNX graph with int8 weights.

Usage: minilm_to_onnx.py MODEL.safetensors OUT.onnx

Reads the weights with numpy alone and writes the BERT graph with the onnx helpers (opset 17):
embeddings, 6 encoder layers with exact erf GELU, masked mean pooling and L2 normalisation.
Every MatMul weight is stored as int8 with one float32 scale per output column, the embedding
tables with one scale per row, symmetric, expanded by DequantizeLinear nodes at load time.
Names and order follow the pack in ../shared/models, so the result is the same bytes.
"""

import json
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LAYERS, HEADS, HIDDEN = 6, 12, 384


def load_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    types = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        start, end = v["data_offsets"]
        raw = data[8 + n + start : 8 + n + end]
        out[name] = np.frombuffer(raw, dtype=types[v["dtype"]]).reshape(v["shape"])
    return out


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0
        self.quantised = {}  # name -> axis of its scales

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, name, value, axis):
        self.quantised[name] = axis
        return self.const(name, np.ascontiguousarray(value, dtype=np.float32))

    def op(self, op, inputs, out=None, **attrs):
        if out is None:
            self.count += 1
            out = f"{op}_{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def quantise(g):
    """Weight-only int8: each quantised float initializer becomes _q, _scale, _zp in place,
    and DequantizeLinear nodes (in initializer order) come first."""
    inits, dequant = [], []
    for t in g.inits:
        axis = g.quantised.get(t.name)
        if axis is None:
            inits.append(t)
            continue
        w = numpy_helper.to_array(t)
        amax = np.abs(w).max(axis=1 - axis)
        scale = (amax / np.float32(127)).astype(np.float32)
        shape = (-1, 1) if axis == 0 else (1, -1)
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        zp = np.zeros(scale.shape, dtype=np.int8)
        names = [t.name + "_q", t.name + "_scale", t.name + "_zp"]
        for name, value in zip(names, (q, scale, zp)):
            inits.append(numpy_helper.from_array(value, name))
        dequant.append(
            helper.make_node("DequantizeLinear", names, [t.name], name="dq_" + t.name, axis=axis)
        )
    g.inits = inits
    g.nodes = dequant + g.nodes


def f32(x):
    return np.array([x], dtype=np.float32)


def i64(*x):
    return np.array(x, dtype=np.int64)


def build(w):
    g = Graph()
    emb = "embeddings."
    word = g.op("Gather", [g.weight("word_emb", w[emb + "word_embeddings.weight"], 0), "input_ids"])
    shape = g.op("Shape", ["input_ids"])
    ones = g.op(
        "ConstantOfShape", [shape], value=numpy_helper.from_array(i64(1))
    )
    cum = g.op("CumSum", [ones, g.const("ax1c", i64(1))])
    positions = g.op("Sub", [cum, g.const("one_", i64(1))])
    pos = g.op("Gather", [g.weight("pos_emb", w[emb + "position_embeddings.weight"], 0), positions])
    tok = g.op(
        "Gather", [g.weight("tok_emb", w[emb + "token_type_embeddings.weight"], 0), "token_type_ids"]
    )
    x = g.op("Add", [g.op("Add", [word, pos]), tok])
    x = layer_norm(g, x, w, "embeddings.LayerNorm")
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = g.op("Sub", [g.const("f1", f32(1.0)), mask])
    bias = g.op("Mul", [bias, g.const("neg", f32(-1e9))])
    bias = g.op("Unsqueeze", [bias, g.const("ax12", i64(1, 2))])
    heads = g.const("shp_heads", i64(0, 0, HEADS, HIDDEN // HEADS))
    back = g.const("shp_back", i64(0, 0, HIDDEN))
    scale = g.const("scale", f32(1.0 / np.sqrt(HIDDEN // HEADS)))
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."

        def split(name):
            y = g.op("Reshape", [dense(g, x, w, p + name), heads])
            return g.op("Transpose", [y], perm=[0, 2, 1, 3])

        q, k, v = split("attention.self.query"), split("attention.self.key"), split(
            "attention.self.value"
        )
        kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, kt]), scale]), bias])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, back])
        y = g.op("Add", [dense(g, ctx, w, p + "attention.output.dense"), x])
        x = layer_norm(g, y, w, p + "attention.output.LayerNorm")
        h = dense(g, x, w, p + "intermediate.dense")
        c_half, c_one = g.const(f"half{i}", f32(0.5)), g.const(f"one_f{i}", f32(1.0))
        c_sqrt2 = g.const(f"sqrt2_{i}", f32(np.sqrt(2.0)))
        half = g.op("Mul", [h, c_half])
        erf = g.op("Erf", [g.op("Div", [h, c_sqrt2])])
        h = g.op("Mul", [half, g.op("Add", [c_one, erf])])
        y = g.op("Add", [dense(g, h, w, p + "output.dense"), x])
        x = layer_norm(g, y, w, p + "output.LayerNorm")
    g.op("Identity", [x], out="last_hidden_state")
    m = g.op("Unsqueeze", [mask, g.const("ax2", i64(2))])
    total = g.op("ReduceSum", [g.op("Mul", [x, m]), g.const("ax1", i64(1))], keepdims=0)
    count = g.op("ReduceSum", [m, g.const("ax1b", i64(1))], keepdims=0)
    mean = g.op("Div", [total, g.op("Max", [count, g.const("tiny", f32(1e-9))])])
    norm = g.op("ReduceSum", [g.op("Mul", [mean, mean]), g.const("axm1", i64(-1))], keepdims=1)
    norm = g.op("Max", [g.op("Sqrt", [norm]), g.const("tiny2", f32(1e-12))])
    g.op("Div", [mean, norm], out="sentence_embedding")
    quantise(g)
    ids = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    outs = [
        helper.make_tensor_value_info(
            "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", HIDDEN]
        ),
        helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", HIDDEN]),
    ]
    graph = helper.make_graph(g.nodes, "minilm", ids, outs, g.inits)
    model = helper.make_model(
        graph, producer_name="vx-survey-bert-builder", opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8
    return model


def dense(g, x, w, name):
    wt = g.weight(name + ".wT", w[name + ".weight"].T, 1)
    return g.op("Add", [g.op("MatMul", [x, wt]), g.const(name + ".bias_", w[name + ".bias"])])


def layer_norm(g, x, w, name):
    gamma = g.const(name + ".g", w[name + ".weight"])
    beta = g.const(name + ".b", w[name + ".bias"])
    return g.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-12)


if __name__ == "__main__":
    src, dst = sys.argv[1:3]
    onnx.save(build(load_safetensors(src)), dst)
