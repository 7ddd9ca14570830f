"""PyTorch's legacy (pre-1.6, non-zip) serialisation read with a restricted unpickler and numpy,
without torch: a state dict of float and integer tensors, nested in plain dicts, nothing else.
"""

import pickle
from collections import OrderedDict

import numpy as np

STORAGE_TYPES = {"FloatStorage": np.float32, "LongStorage": np.int64}


class _Storage:
    def __init__(self, dtype, key):
        self.dtype, self.key = dtype, key


class _StateDictUnpickler(pickle.Unpickler):
    """Only what a state dict of float tensors needs; anything else is refused."""

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *rest: (storage, offset, size, stride)
        if module == "torch" and name in STORAGE_TYPES:
            return STORAGE_TYPES[name]
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

    def __init__(self, f):
        super().__init__(f)
        self.dtypes = {}

    def persistent_load(self, pid):
        kind, dtype, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        self.dtypes[key] = dtype
        return _Storage(dtype, key)


def load_pth(path, part=None):
    """The tensors of a .pth as numpy arrays, by name: of the state dict it holds or, with
    `part`, of the one under that key of the dict it holds (a checkpoint's "model_state")."""
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        unpickler = _StateDictUnpickler(f)
        saved = unpickler.load()
        keys = pickle.load(f)
        storages = {}
        for key in keys:  # every storage, those of other parts too, in this order
            dtype = unpickler.dtypes[key]
            count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
            width = np.dtype(dtype).itemsize
            storages[key] = np.frombuffer(f.read(count * width), dtype=dtype)
    tensors = saved if part is None else saved[part]
    out = OrderedDict()
    for name, (storage, offset, size, stride) in tensors.items():
        flat = storages[storage.key]
        width = flat.itemsize
        out[name] = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * width for s in stride]
        ).copy()
    return out
