#!/usr/bin/env python3
"""PyTorch reference fixtures for lstm-lab's GRU (lib/nn/gru.ts), written to lib/nn/testdata/.

For each fixture ``<name>`` below it writes

* ``<name>.state_dict.safetensors``: the module's ``state_dict()`` (``weight_ih_l{k}`` (3H, I or H), ``weight_hh_l{k}``
  (3H, H), ``bias_ih_l{k}`` (3H), ``bias_hh_l{k}`` (3H); gate blocks r, z, n);
* ``<name>.io.safetensors``: ``x`` (B=3, T=7, I), nonzero random ``h0`` (L, B, H), ``output`` (B, T, H), ``h_n``
  (L, B, H), fixed random weights ``r`` (shape of ``output``) and ``rh`` (shape of ``h_n``), the scalar
  ``loss = (output * r).sum() + (h_n * rh).sum()``, and its gradients ``grad.<parameter name>``, ``grad.x``,
  ``grad.h0``. Every tensor is in the module's dtype.

| name              | module                                                   | dtype   | seed |
| ----------------- | -------------------------------------------------------- | ------- | ---- |
| gru_i3_h5_l2_f64  | nn.GRU(3, 5, num_layers=2, batch_first=True).double()    | float64 | 11   |
| gru_i3_h5_l2_f32  | nn.GRU(3, 5, num_layers=2, batch_first=True)             | float32 | 11   |
| gru_i2_h4_l1_f64  | nn.GRU(2, 4, num_layers=1, batch_first=True).double()    | float64 | 12   |

The Python ``safetensors`` package is not in Debian, so the files are written by ``save_safetensors`` below, which
lays them out as ``safetensors.torch.save_file`` does (8-byte little-endian header length, compact JSON header with
tensors sorted by dtype, F64 first, then by name, space padding to a multiple of 8, raw little-endian data).

Seeded (``torch.manual_seed``) and single-threaded, so a rerun with the same torch gives byte-identical files.
Made with Debian's python3-torch 1.13.0a0 and numpy 1.24.2 (Python 3.11, CPU). Regenerate from the repository root:

    /usr/bin/python3 tools/torch_gru_fixtures.py            # writes lib/nn/testdata/gru_*.safetensors
    /usr/bin/python3 tools/torch_gru_fixtures.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import torch
from torch import nn

B, T = 3, 7
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "nn", "testdata")
DTYPES = {torch.float64: ("F64", "<f8"), torch.float32: ("F32", "<f4")}
ORDER = {"F64": 0, "F32": 1}


def save_safetensors(tensors: dict[str, torch.Tensor], path: str) -> None:
    """Writes float32/float64 tensors as a safetensors file, laid out like safetensors.torch.save_file."""
    items = []
    for name, t in tensors.items():
        code, np_dtype = DTYPES[t.dtype]
        arr = t.detach().contiguous().numpy().astype(np_dtype)
        items.append((ORDER[code], name.encode("utf-8"), name, code, list(t.shape), arr))
    items.sort(key=lambda e: (e[0], e[1]))
    header, blobs, offset = {}, [], 0
    for _, _, name, code, shape, arr in items:
        data = arr.tobytes()
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def gru_fixture(out_dir: str, name: str, seed: int, I: int, H: int, L: int, dtype: torch.dtype) -> None:
    torch.manual_seed(seed)
    module = nn.GRU(I, H, num_layers=L, batch_first=True).to(dtype)
    save_safetensors(dict(module.state_dict()), os.path.join(out_dir, f"{name}.state_dict.safetensors"))
    x = torch.randn(B, T, I, dtype=dtype, requires_grad=True)
    h0 = (0.5 * torch.randn(L, B, H, dtype=dtype)).requires_grad_()
    r = torch.randn(B, T, H, dtype=dtype)
    rh = torch.randn(L, B, H, dtype=dtype)
    output, h_n = module(x, h0)
    loss = (output * r).sum() + (h_n * rh).sum()
    loss.backward()
    io = {"x": x, "h0": h0, "output": output, "h_n": h_n, "r": r, "rh": rh, "loss": loss}
    io["grad.x"] = x.grad
    io["grad.h0"] = h0.grad
    for pname, p in module.named_parameters():
        io[f"grad.{pname}"] = p.grad
    save_safetensors(io, os.path.join(out_dir, f"{name}.io.safetensors"))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="Writes the GRU PyTorch fixtures (see the docstring).")
    p.add_argument("--out", default=DEFAULT_OUT, help="output folder (default lib/nn/testdata)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(a.out, exist_ok=True)
    gru_fixture(a.out, "gru_i3_h5_l2_f64", 11, 3, 5, 2, torch.float64)
    gru_fixture(a.out, "gru_i3_h5_l2_f32", 11, 3, 5, 2, torch.float32)
    gru_fixture(a.out, "gru_i2_h4_l1_f64", 12, 2, 4, 1, torch.float64)
    print(f"torch {torch.__version__}; wrote to {os.path.normpath(a.out)}:")
    for f in sorted(os.listdir(a.out)):
        if f.startswith("gru_") and f.endswith(".safetensors"):
            print(f"  {os.path.getsize(os.path.join(a.out, f)):6d}  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
