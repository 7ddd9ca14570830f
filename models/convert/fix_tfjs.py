"""Fills the op attributes a TF.js graph model leaves out, so that tf2onnx can convert it.

Usage: fix_tfjs.py MODEL.json OUT.json   (the weight files are copied beside OUT.json)

TF.js drops attributes that equal their defaults; tf2onnx reads them. Each node gets the
attributes missing from it with the defaults from TensorFlow's op registry, and the fused ops
get `TArgs`, a list of DT_FLOAT as long as `num_args`.
"""

import json
import os
import shutil
import sys

from google.protobuf import json_format
from tensorflow.python.framework import op_def_registry

FUSED = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")


def fix(model):
    for node in model["modelTopology"]["node"]:
        attrs = node.setdefault("attr", {})
        op_def = op_def_registry.get(node["op"])
        if op_def is not None:
            for a in op_def.attr:
                if a.name not in attrs and a.HasField("default_value"):
                    attrs[a.name] = json_format.MessageToDict(a.default_value)
        if node["op"] in FUSED and "TArgs" not in attrs:
            n = int(attrs.get("num_args", {}).get("i", 0))
            attrs["TArgs"] = {"list": {"type": ["DT_FLOAT"] * n}}
    return model


if __name__ == "__main__":
    src, dst = sys.argv[1:3]
    with open(src) as f:
        model = json.load(f)
    with open(dst, "w") as f:
        json.dump(fix(model), f)
    # tf2onnx reads the weight files named in the manifest beside the model.
    here, there = os.path.dirname(os.path.abspath(src)), os.path.dirname(os.path.abspath(dst))
    if here != there:
        for group in model["weightsManifest"]:
            for name in group["paths"]:
                shutil.copyfile(os.path.join(here, name), os.path.join(there, name))
