"""BRISQUE (PyPI brisque 0.2.0) as one ONNX graph: picture in, quality score out.

Usage: brisque_to_onnx.py SVM.txt OUT.onnx   (normalize.pickle is read from beside svm.txt)

The package's pipeline, step for step: grey = RGB / 255 weighted 0.2125, 0.7154, 0.0721
(skimage's rgb2gray); at full size and at half size (bicubic, a = -0.75, half-pixel centres, as
OpenCV's INTER_CUBIC), the MSCN coefficients (7 x 7 Gaussian, sigma 7/6, zero padding, C = 1/255)
and their four neighbour products; each fitted with an asymmetric generalised Gaussian, whose
shape is looked up in a table of the moment ratio over alpha 0.2..10 (step 0.0002) instead of
solved for; the 36 features scaled to -1..1 by normalize.pickle, then libsvm's RBF regressor
(svm.txt: epsilon-SVR, gamma 0.05). Input `rgb` float32 [H, W, 3] in 0..255; outputs `score` [1]
and `features` [1, 36]. Tensors are named by a counter in the order they are made, so names and
order follow the pack in ../shared/models.
"""

import math
import os
import pickle
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from pack_model import pack_model

LUMA = [0.2125, 0.7154, 0.0721]
KERNEL, SIGMA, C = 7, 7 / 6, 1 / 255
ALPHAS = 49001  # 0.2 to 10.0 in steps of 0.0002
BIG = 2**62  # "to the end" for Slice
METADATA = {"source": "PyPI brisque==0.2.0 models/svm.txt + normalize.pickle (BRISQUE, LIVE IQA trained SVR)"}


class Graph:
    """Nodes and constants named in the order they are made: c1, div8, matmul10, ..."""

    def __init__(self):
        self.n, self.nodes, self.inits = 0, [], []

    def const(self, value, dtype=np.float32):
        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def ints(self, value):
        return self.const(value, np.int64)

    def op(self, op_type, *inputs, out=None, **attrs):
        if out is None:
            self.n += 1
            out = f"{op_type.lower()}{self.n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def gaussian_kernel():
    y, x = np.indices((KERNEL, KERNEL)) - KERNEL // 2
    k = 1 / (2 * np.pi * SIGMA**2) * np.exp(-(x**2 + y**2) / (2 * SIGMA**2))
    return (k / k.sum()).reshape(1, 1, KERNEL, KERNEL)


def fit_tables():
    """Over the alpha grid: the moment ratio Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)), the alphas,
    and the factor that turns sigma_r - sigma_l into the mean."""
    alphas = 0.2 + 0.0002 * np.arange(ALPHAS)
    g = lambda z: np.array([math.gamma(v) for v in z])  # noqa: E731
    g1, g2, g3 = g(1 / alphas), g(2 / alphas), g(3 / alphas)
    return g2**2 / (g1 * g3), alphas, np.sqrt(g1 / g3) * g2 / g1


class Brisque:
    def __init__(self, g):
        self.g = g
        self.kernel = g.const(gaussian_kernel())
        self.phi, self.alpha, self.mean_factor = (g.const(t) for t in fit_tables())
        self.zero, self.one = g.const(0.0), g.const(1.0)

    def fit(self, x, mscn):
        """Asymmetric generalised Gaussian fit: [alpha, variance] for the MSCN coefficients,
        [alpha, mean, left variance, right variance] for a product."""
        g = self.g
        sq, ab = g.op("Mul", x, x), g.op("Abs", x)
        m_abs = g.op("ReduceMean", ab, keepdims=0)
        m_sq = g.op("ReduceMean", sq, keepdims=0)
        r_hat = g.op("Div", g.op("Mul", m_abs, m_abs), m_sq)
        neg = g.op("Cast", g.op("Less", x, self.zero), to=TensorProto.FLOAT)
        pos = g.op("Sub", self.one, neg)
        left = g.op("Div", g.op("ReduceSum", g.op("Mul", sq, neg), keepdims=0), g.op("ReduceSum", neg, keepdims=0))
        right = g.op("Div", g.op("ReduceSum", g.op("Mul", sq, pos), keepdims=0), g.op("ReduceSum", pos, keepdims=0))
        sl, sr = g.op("Sqrt", left), g.op("Sqrt", right)
        gamma = g.op("Div", sl, sr)
        g2 = g.op("Mul", gamma, gamma)
        num = g.op("Mul", g.op("Add", g.op("Mul", g2, gamma), self.one), g.op("Add", gamma, self.one))
        den = g.op("Add", g2, self.one)
        r = g.op("Div", g.op("Mul", r_hat, num), g.op("Mul", den, den))
        best = g.op("ArgMin", g.op("Abs", g.op("Sub", self.phi, r)), axis=0, keepdims=0)
        alpha = g.op("Gather", self.alpha, best)
        factor = g.op("Gather", self.mean_factor, best)
        mean = g.op("Mul", g.op("Sub", sr, sl), factor)
        if mscn:
            return [alpha, g.op("Div", g.op("Add", left, right), g.const(2.0))]
        return [alpha, mean, left, right]

    def features(self, grey):
        """The 18 features of one scale of the grey picture [1, 1, H, W]."""
        g = self.g
        mu = g.op("Conv", grey, self.kernel, pads=[3, 3, 3, 3])
        var = g.op("Conv", g.op("Mul", grey, grey), self.kernel, pads=[3, 3, 3, 3])
        sigma = g.op("Sqrt", g.op("Abs", g.op("Sub", g.op("Mul", mu, mu), var)))
        mscn = g.op("Div", g.op("Sub", grey, mu), g.op("Add", sigma, g.const(C)))

        def part(starts, ends, axes):
            return g.op("Slice", mscn, g.ints(starts), g.ints(ends), g.ints(axes))

        products = [
            g.op("Mul", part(a1, e1, axes), part(a2, e2, axes))
            for (a1, e1), (a2, e2), axes in [
                (([0], [-1]), ([1], [BIG]), [3]),  # horizontal neighbours
                (([0], [-1]), ([1], [BIG]), [2]),  # vertical
                (([0, 0], [-1, -1]), ([1, 1], [BIG, BIG]), [2, 3]),  # main diagonal
                (([1, 0], [BIG, -1]), ([0, 1], [-1, BIG]), [2, 3]),  # secondary diagonal
            ]
        ]
        found = self.fit(mscn, mscn=True)
        for p in products:
            found += self.fit(p, mscn=False)
        return found


def read_svm(path):
    """libsvm's model file: its header, and the support vectors with their coefficients."""
    header, coefs, vectors = {}, [], []
    with open(path) as f:
        for line in f:
            if line.strip() == "SV":
                break
            key, *value = line.split()
            header[key] = value
        for line in f:
            coef, *pairs = line.split()
            v = np.zeros(36)
            for pair in pairs:
                i, x = pair.split(":")
                v[int(i) - 1] = float(x)
            coefs.append(float(coef))
            vectors.append(v)
    return header, np.array(coefs), np.array(vectors)


def build(svm_path):
    with open(os.path.join(os.path.dirname(svm_path), "normalize.pickle"), "rb") as f:
        scale = pickle.load(f)
    header, coefs, vectors = read_svm(svm_path)
    low, high = np.array(scale["min_"], dtype=np.float64), np.array(scale["max_"], dtype=np.float64)

    g = Graph()
    b = Brisque(g)
    rgb = g.op("Div", "rgb", g.const(255.0))
    grey = g.op("Transpose", g.op("MatMul", rgb, g.const(np.array(LUMA).reshape(3, 1))), perm=[2, 0, 1])
    grey = g.op("Unsqueeze", grey, g.ints([0]))
    half = g.op(
        "Resize", grey, "", g.const([1.0, 1.0, 0.5, 0.5]),
        coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.75, mode="cubic",
    )
    found = b.features(grey) + b.features(half)
    each = [g.op("Unsqueeze", f, g.ints([0])) for f in found]
    features = g.op("Unsqueeze", g.op("Concat", *each, axis=0), g.ints([0]), out="features")
    scaled = g.op("Add", g.op("Mul", g.op("Sub", features, g.const(low)), g.const(2.0 / (high - low))), g.const(-1.0))
    # |x - v|^2 = |x|^2 - 2 x.v + |v|^2 for every support vector v, then the RBF kernel.
    x2 = g.op("ReduceSum", g.op("Mul", scaled, scaled), g.ints([1]), keepdims=1)
    dist = g.op("Add", g.op("Sub", x2, g.op("MatMul", scaled, g.const(2 * vectors.T))),
                g.const((vectors**2).sum(axis=1)[None]))
    kernel = g.op("Exp", g.op("Mul", dist, g.const(-float(header["gamma"][0]))))
    value = g.op("Sub", g.op("MatMul", kernel, g.const(coefs[:, None])), g.const([float(header["rho"][0])]))
    g.op("Reshape", value, g.ints([1]), out="score")

    graph = helper.make_graph(
        g.nodes,
        "brisque",
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, ["H", "W", 3])],
        [
            helper.make_tensor_value_info("score", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 36]),
        ],
        g.inits,
    )
    return pack_model(graph, "build_brisque_onnx.py", METADATA)


def main():
    import onnx

    onnx.save(build(sys.argv[1]), sys.argv[2])


if __name__ == "__main__":
    main()
