"""Writes golden.safetensors with numpy only (the `safetensors` package is not needed).

Run from this folder:  python3 make_golden.py
The layout follows the reference writer: 8-byte little-endian header length, compact UTF-8 JSON
padded with spaces to a multiple of 8 bytes, then the raw little-endian data without gaps.
SafeTensorsGoldenTests loads the file and also checks that the C# writer reproduces it byte for byte.
"""
import json
import struct

import numpy as np

# Values are exact in float32 (small dyadic fractions), so the C# test can state them in closed form.
tensors = [
    ("W1", np.arange(6, dtype="<f4").reshape(2, 3) * np.float32(0.5) - np.float32(1.25)),
    ("b1", np.array([1.0, -2.0, 0.1, 1e-300], dtype="<f8")),
    ("x3", np.arange(2 * 3 * 2, dtype="<f4").reshape(2, 3, 2) / np.float32(8)),
    ("x4", -np.arange(1 * 2 * 2 * 3, dtype="<f8").reshape(1, 2, 2, 3) / 3.0),
    ("empty", np.zeros((0, 5), dtype="<f4")),
]
metadata = {"format": "cifar-simd", "note": "golden file, numpy writer"}

header = {"__metadata__": metadata}
offset = 0
for name, array in tensors:
    size = array.nbytes
    header[name] = {
        "dtype": {"float32": "F32", "float64": "F64"}[array.dtype.name],
        "shape": list(array.shape),
        "data_offsets": [offset, offset + size],
    }
    offset += size

text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * (-len(text) % 8)
with open("golden.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for _, array in tensors:
        f.write(np.ascontiguousarray(array).tobytes())
print(f"wrote golden.safetensors: header {len(text)} bytes, data {offset} bytes")
