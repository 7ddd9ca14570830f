"""Baseline for scripts/bench-models.sh: the same models run bare through ONNX Runtime's Python
API (the same library version), same input shapes, random inputs, no pre- or post-processing.
Prints median ms per item, for the given thread count."""
import os
import sys
import time

import numpy as np
import onnxruntime as ort

PACK = os.environ["VX_MODELS_DIR"]
THREADS = int(sys.argv[1])
RUNS = 7


def bench(path, feeds, items):
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    s = ort.InferenceSession(os.path.join(PACK, path), so, providers=["CPUExecutionProvider"])
    s.run(None, feeds)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        s.run(None, feeds)
        times.append((time.perf_counter() - t) * 1000 / items)
    return sorted(times)[RUNS // 2]


rng = np.random.default_rng(0)
img = lambda *shape: (rng.random(shape, dtype=np.float32) * 255).astype(np.float32)
ids = lambda n: {"input_ids": np.full((n, 11), 2000, np.int64), "attention_mask": np.ones((n, 11), np.int64),
                 "token_type_ids": np.zeros((n, 11), np.int64)}
rows = [
    ("tagger 224x224", bench("tags/efficientnet-lite0-imagenet.onnx", {"image": img(1, 224, 224, 3)}, 1),
     bench("tags/efficientnet-lite0-imagenet.onnx", {"image": img(8, 224, 224, 3)}, 8)),
    ("detector 512x512", bench("detect/centernet-coco.onnx", {"tower_0/images:0": img(1, 512, 512, 3)}, 1), None),
    ("face detector 512x512", bench("faces/faceboxes.onnx", {"image_tensor:0": img(1, 512, 512, 3).astype(np.uint8)}, 1), None),
    ("face descriptor 224x224", bench("faces/faceres.onnx", {"input_1:0": img(1, 224, 224, 3)}, 1), None),
    ("OCR det 1472x736", bench("ocr/ppocrv4-det.onnx", {"x": img(1, 3, 736, 1472) / 255}, 1), None),
    ("OCR rec 5 lines 48x960", bench("ocr/ppocrv4-rec.onnx", {"x": img(5, 3, 48, 960) / 255}, 1), None),
    ("MiniLM 11 tokens", bench("text/minilm-l6-v2.onnx", ids(1), 1), bench("text/minilm-l6-v2.onnx", ids(8), 8)),
]
print(f"bare onnxruntime {ort.__version__} (Python), {THREADS} thread(s)\n")
print("| model | ms/item batch 1 | ms/item batch 8 |\n|---|---|---|")
for name, b1, b8 in rows:
    print(f"| {name} | {b1:.1f} | {'-' if b8 is None else f'{b8:.1f}'} |")
