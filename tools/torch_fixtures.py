#!/usr/bin/env python3
"""PyTorch reference fixtures for lstm-lab's PyTorch interchange tests (lib/io/testdata/).

What it makes (all with ``safetensors.torch.save_file``; see lib/io/testdata/README.md for every tensor and shape):

* ``<name>.state_dict.safetensors``: exactly ``save_file(module.state_dict(), path)`` for
    - ``lstm_i3_h5_l2_f64`` / ``lstm_i3_h5_l2_f32``: ``nn.LSTM(3, 5, num_layers=2, batch_first=True)``, float64 / float32
    - ``rnn_tanh_i3_h5_l2_f64``: ``nn.RNN(3, 5, num_layers=2, nonlinearity="tanh", batch_first=True)``, float64
    - ``lstm_i2_h4_l1_f64``: ``nn.LSTM(2, 4, num_layers=1, batch_first=True)``, float64
    - ``net_lstm_linear_f32``: ``Net`` below (an LSTM(2, 4) whose last time step feeds ``nn.Linear(4, 1)``), float32
* ``<name>.io.safetensors``: inputs, outputs and gradients of the module above. For the recurrent modules: ``x`` (B=3,
  T=7, I), nonzero random ``h0`` and (LSTM) ``c0`` (L, B, H), ``output`` (B, T, H), ``h_n`` and (LSTM) ``c_n``, the
  fixed random weights ``r`` (shape of ``output``) and ``rh`` (shape of ``h_n``), the scalar
  ``loss = (output * r).sum() + (h_n * rh).sum()`` and its gradients ``grad.<parameter name>``, ``grad.x``,
  ``grad.h0`` and (LSTM) ``grad.c0``. For ``Net``: ``x`` (3, 7, 2) and ``y`` = ``Net(x)`` (3, 1), zero initial state.
* ``dtypes.safetensors``: F16 and BF16 tensors written by PyTorch next to their exact float32 values, for the decoder.
* ``encoder_reference.safetensors``: a mixed F32/F64 dict (special values, a scalar, empty tensors, unicode names) for
  checking that our encoder writes byte-identical files.

Everything is seeded (``torch.manual_seed``) and single-threaded, so reruns give byte-identical files.
Made with torch 2.13.0+cpu, safetensors 0.8.0, numpy 2.4.6 (Python venv /tmp/tv).

Regenerate (from the repository root):

    /tmp/tv/bin/python tools/torch_fixtures.py            # writes lib/io/testdata/*.safetensors
    /tmp/tv/bin/python tools/torch_fixtures.py --out DIR  # somewhere else

Second mode, for checking state dicts written by OUR library (lib/io/torch.ts):

    /tmp/tv/bin/python tools/torch_fixtures.py check-ours OURS.safetensors IO.safetensors [--nonlinearity relu]
        [--prefix rnn.] [--tol 1e-5]

It infers the module (nn.LSTM / nn.GRU / nn.RNN from the gate count of ``weight_ih_l0``), input size, hidden size,
layer count, bias and bidirectionality from the keys and shapes, loads the file with ``strict=True``, runs it on
``x`` (and ``h0``/``c0`` when present, zeros otherwise) from the io file, and compares with the stored ``output``
(and ``h_n``/``c_n`` when present). A file with only ``rnn.*`` and ``readout.*`` keys is taken as ``Net`` and
its ``y`` (Linear on the last time step) is compared too. The default tolerance is 1e-5 if either file is float32, else 1e-10. It prints
``OK`` with the max difference, or the max difference per tensor, and exits 1 on a mismatch (2 on a bad file).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import torch
from safetensors.torch import load_file, save_file
from torch import nn

B, T = 3, 7
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib", "io", "testdata")


class Net(nn.Module):
    """An LSTM whose last time step's output goes through a linear readout."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(2, 4, batch_first=True)
        self.readout = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.readout(out[:, -1, :])


def _contiguous(d: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous() for k, v in d.items()}


def recurrent_fixture(out_dir: str, name: str, seed: int, make, dtype: torch.dtype) -> None:
    """Writes <name>.state_dict.safetensors and <name>.io.safetensors for a batch_first nn.LSTM / nn.RNN."""
    torch.manual_seed(seed)
    module = make().to(dtype)
    is_lstm = isinstance(module, nn.LSTM)
    L, I, H = module.num_layers, module.input_size, module.hidden_size
    save_file(module.state_dict(), os.path.join(out_dir, f"{name}.state_dict.safetensors"))

    x = torch.randn(B, T, I, dtype=dtype, requires_grad=True)
    h0 = (0.5 * torch.randn(L, B, H, dtype=dtype)).requires_grad_()
    c0 = (0.5 * torch.randn(L, B, H, dtype=dtype)).requires_grad_()
    r = torch.randn(B, T, H, dtype=dtype)
    rh = torch.randn(L, B, H, dtype=dtype)
    if is_lstm:
        output, (h_n, c_n) = module(x, (h0, c0))
    else:
        output, h_n = module(x, h0)
    loss = (output * r).sum() + (h_n * rh).sum()
    loss.backward()

    io = {"x": x, "h0": h0, "output": output, "h_n": h_n, "r": r, "rh": rh, "loss": loss}
    if is_lstm:
        io.update(c0=c0, c_n=c_n, **{"grad.c0": c0.grad})
    io["grad.x"] = x.grad
    io["grad.h0"] = h0.grad
    for pname, p in module.named_parameters():
        io[f"grad.{pname}"] = p.grad
    save_file(_contiguous(io), os.path.join(out_dir, f"{name}.io.safetensors"))


def net_fixture(out_dir: str, seed: int) -> None:
    torch.manual_seed(seed)
    net = Net().float()
    save_file(net.state_dict(), os.path.join(out_dir, "net_lstm_linear_f32.state_dict.safetensors"))
    x = torch.randn(B, T, 2)
    with torch.no_grad():
        y = net(x)
    save_file(_contiguous({"x": x, "y": y}), os.path.join(out_dir, "net_lstm_linear_f32.io.safetensors"))


def dtypes_fixture(out_dir: str, seed: int) -> None:
    torch.manual_seed(seed)
    special = torch.tensor([0.0, -0.0, 1.0, -2.0, 1 / 3, 65504.0, 2.0**-14, 2.0**-24, float("inf"), float("-inf")])
    r16 = (torch.randn(2, 3, 4) * 10).to(torch.float16)
    rbf = (torch.randn(5, 2) * 1e3).to(torch.bfloat16)
    special_bf = torch.tensor([1.0, 3.14159, -123.5, 3.0e38, 2.0**-126, 2.0**-133, -0.0, float("inf")])
    tensors = {
        "f16.special": special.to(torch.float16),
        "f16.special.as_f32": special.to(torch.float16).float(),
        "f16.random": r16,
        "f16.random.as_f32": r16.float(),
        "bf16.special": special_bf.to(torch.bfloat16),
        "bf16.special.as_f32": special_bf.to(torch.bfloat16).float(),
        "bf16.random": rbf,
        "bf16.random.as_f32": rbf.float(),
        "f16.scalar": torch.tensor(-0.5, dtype=torch.float16),
        "bf16.empty": torch.zeros(0, 3, dtype=torch.bfloat16),
    }
    save_file(tensors, os.path.join(out_dir, "dtypes.safetensors"))


def encoder_reference_fixture(out_dir: str, seed: int) -> None:
    torch.manual_seed(seed)
    tensors = {
        "zeta": torch.randn(2, 3, dtype=torch.float64),
        "alpha": torch.randn(4, dtype=torch.float32),
        "Beta": torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324], dtype=torch.float64),
        "beta": torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, 1e-45], dtype=torch.float32),
        "scalar.f32": torch.tensor(2.5, dtype=torch.float32),
        "scalar.f64": torch.tensor(-1 / 3, dtype=torch.float64),
        "empty.f32": torch.zeros(0, dtype=torch.float32),
        "empty.f64": torch.zeros(2, 0, dtype=torch.float64),
        "layer.0.weight_ih_l0": torch.randn(3, 1, 2, dtype=torch.float32),
        "é": torch.randn(1, dtype=torch.float32),
        "\uffff": torch.randn(1, dtype=torch.float32),
        "😀": torch.randn(1, dtype=torch.float32),
        "": torch.randn(1, dtype=torch.float64),
    }
    save_file(tensors, os.path.join(out_dir, "encoder_reference.safetensors"))


def generate(out_dir: str) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(out_dir, exist_ok=True)
    f64, f32 = torch.float64, torch.float32
    lstm_a = lambda: nn.LSTM(3, 5, num_layers=2, batch_first=True)  # noqa: E731
    recurrent_fixture(out_dir, "lstm_i3_h5_l2_f64", 1, lstm_a, f64)
    recurrent_fixture(out_dir, "lstm_i3_h5_l2_f32", 1, lstm_a, f32)
    recurrent_fixture(
        out_dir, "rnn_tanh_i3_h5_l2_f64", 2, lambda: nn.RNN(3, 5, num_layers=2, nonlinearity="tanh", batch_first=True), f64
    )
    recurrent_fixture(out_dir, "lstm_i2_h4_l1_f64", 3, lambda: nn.LSTM(2, 4, num_layers=1, batch_first=True), f64)
    net_fixture(out_dir, 4)
    dtypes_fixture(out_dir, 5)
    encoder_reference_fixture(out_dir, 6)
    print(f"torch {torch.__version__}; wrote to {os.path.normpath(out_dir)}:")
    for f in sorted(os.listdir(out_dir)):
        if f.endswith(".safetensors"):
            print(f"  {os.path.getsize(os.path.join(out_dir, f)):6d}  {f}")


# ---- check-ours -----------------------------------------------------------------------------------------------------

KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")


def _run(module, kind: str, LD: int, H: int, dtype, io, readout) -> dict[str, torch.Tensor]:
    """The module's outputs on the io file's x (h0/c0 when present, zeros otherwise)."""
    x = io["x"].to(dtype)
    h0 = io["h0"].to(dtype) if "h0" in io else None
    with torch.no_grad():
        if kind == "LSTM":
            hx = None
            if h0 is not None or "c0" in io:
                zeros = torch.zeros(LD, x.shape[0], H, dtype=dtype)
                hx = (h0 if h0 is not None else zeros, io["c0"].to(dtype) if "c0" in io else zeros)
            output, (h_n, c_n) = module(x, hx)
            got = {"output": output, "h_n": h_n, "c_n": c_n}
        else:
            output, h_n = module(x, h0)
            got = {"output": output, "h_n": h_n}
        if readout is not None:
            got["y"] = readout(output[:, -1, :].to(readout.weight.dtype))
    return got


def check_ours(state_path: str, io_path: str, nonlinearity: str, prefix: str, tol: float | None) -> int:
    """Loads a state dict written by lstm-lab into a fresh PyTorch module and compares its outputs with an io file."""
    torch.set_num_threads(1)
    state = load_file(state_path)
    io = load_file(io_path)
    readout = None
    if not prefix and "readout.weight" in state and all(k.startswith(("rnn.", "readout.")) for k in state):
        # A Net (see above): rnn.* is the recurrent module, readout.* a Linear on the last time step; compares y.
        parts = {k[len("readout."):]: v for k, v in state.items() if k.startswith("readout.")}
        readout = nn.Linear(parts["weight"].shape[1], parts["weight"].shape[0], bias="bias" in parts)
        readout = readout.to(parts["weight"].dtype)
        readout.load_state_dict(parts, strict=True)
        print(f"Net: rnn.* and readout = {readout}")
        prefix = "rnn."
    if prefix:
        others = sorted(k for k in state if not k.startswith(prefix))
        if others and readout is None:
            print(f"ignoring keys outside prefix {prefix!r}: {others}")
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    bad = sorted(k for k in state if not KEY.match(k))
    if bad:
        print(f"error: keys that no nn.LSTM/nn.GRU/nn.RNN has: {bad} (use --prefix for a submodule)")
        return 2
    if "weight_ih_l0" not in state or "weight_hh_l0" not in state:
        print(f"error: no weight_ih_l0/weight_hh_l0 among {sorted(state)}")
        return 2
    if any(k.startswith("weight_hr") for k in state):
        print("error: proj_size (weight_hr_l*) is not supported here")
        return 2
    gates_h, I = state["weight_ih_l0"].shape
    H = state["weight_hh_l0"].shape[1]
    L = 1 + max(int(KEY.match(k).group(2)) for k in state)
    bidirectional = any(k.endswith("_reverse") for k in state)
    bias = "bias_ih_l0" in state
    kinds = {4: "LSTM", 3: "GRU", 1: "RNN"}
    if gates_h % H or gates_h // H not in kinds:
        print(f"error: weight_ih_l0 has {gates_h} rows for hidden size {H}; expected 4H (LSTM), 3H (GRU) or H (RNN)")
        return 2
    kind = kinds[gates_h // H]
    dtype = state["weight_ih_l0"].dtype
    kw = dict(num_layers=L, bias=bias, batch_first=True, bidirectional=bidirectional)
    if kind == "RNN":
        module = nn.RNN(I, H, nonlinearity=nonlinearity, **kw)
    else:
        module = getattr(nn, kind)(I, H, **kw)
    module = module.to(dtype)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print(f"error: load_state_dict(strict=True) failed: {e}")
        return 2
    desc = f"nn.{kind}(input_size={I}, hidden_size={H}, num_layers={L}, bias={bias}, bidirectional={bidirectional}"
    desc += f", nonlinearity={nonlinearity!r})" if kind == "RNN" else ")"
    print(f"{desc}, {dtype}")

    try:
        got = _run(module, kind, L * (2 if bidirectional else 1), H, dtype, io, readout)
    except (RuntimeError, KeyError) as e:
        print(f"error: running the module on {io_path} failed: {e!r}")
        return 2
    if tol is None:
        tol = 1e-5 if torch.float32 in (dtype, *(v.dtype for v in io.values())) else 1e-10
    compared = [k for k in got if k in io]
    if not compared:
        print(f"error: {io_path} has none of {sorted(got)} to compare with")
        return 2
    worst = 0.0
    ok = True
    for k, v in got.items():
        if k not in io:
            continue
        want = io[k].to(torch.float64)
        if tuple(want.shape) != tuple(v.shape):
            print(f"{k}: shape {tuple(v.shape)} but the io file has {tuple(want.shape)}")
            ok = False
            continue
        diff = (v.to(torch.float64) - want).abs().max().item() if want.numel() else 0.0
        worst = max(worst, diff)
        if not diff <= tol:
            print(f"{k}: max |difference| {diff:.3e} > tolerance {tol:.0e}")
            ok = False
        else:
            print(f"{k}: max |difference| {diff:.3e}")
    if ok:
        print(f"OK (max |difference| {worst:.3e}, tolerance {tol:.0e})")
        return 0
    print("MISMATCH")
    return 1


def main(argv: list[str]) -> int:
    if argv and argv[0] == "check-ours":
        p = argparse.ArgumentParser(prog="torch_fixtures.py check-ours", description=check_ours.__doc__)
        p.add_argument("state_dict", help="a state_dict .safetensors file written by lstm-lab")
        p.add_argument("io", help="an io .safetensors file with x (and h0, c0) and the expected output")
        p.add_argument("--nonlinearity", default="tanh", choices=["tanh", "relu"], help="for nn.RNN (default tanh)")
        p.add_argument("--prefix", default="", help="only keys under this prefix, e.g. 'rnn.' (stripped)")
        p.add_argument("--tol", type=float, default=None, help="max abs difference (default 1e-5 f32, 1e-10 f64)")
        a = p.parse_args(argv[1:])
        return check_ours(a.state_dict, a.io, a.nonlinearity, a.prefix, a.tol)
    p = argparse.ArgumentParser(prog="torch_fixtures.py", description="Writes the PyTorch fixtures (see the docstring).")
    p.add_argument("--out", default=DEFAULT_OUT, help="output folder (default lib/io/testdata)")
    a = p.parse_args(argv)
    generate(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
