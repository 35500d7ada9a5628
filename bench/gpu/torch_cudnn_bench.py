#!/usr/bin/env python3
"""PyTorch cuDNN reference for the training-step benchmark (bench/gpu/README.md).

The configs, model and step of bench/train_step_bench.ts: one nn.LSTM (or nn.RNN, tanh) layer, time-major input
x (T, B, I), nn.Linear(H, 1) on the last hidden state, MSE loss, Adam(lr=1e-3); a training step is
zero_grad + forward + loss + backward + step. cuDNN runs the recurrence (torch.backends.cudnn.enabled, benchmark mode).

Two timings per case, float32 (TF32 off, as our WebGPU kernels are plain float32):
- "sync":  loss.item() after every step — one device-to-host readback per step, as our `trainStep` and tfjs's
           `trainOnBatch` do;
- "async": steps queued back to back, one synchronize at the end of the timed run — throughput, comparable with
           our "16 steps per readback" number.
Each timing: warm-up (>= 10 steps and >= 0.3 s), then 7 runs of >= 0.15 s, median of per-step means.

The batch: uniform in [-1, 1] from torch.Generator seeded 12345 (not the same values as our Rng(12345): timing does
not depend on the values).

Usage: python3 bench/gpu/torch_cudnn_bench.py [--configs tiny,small,...] [--cells lstm,rnn] [--json out.json]
"""

import argparse
import json
import statistics
import sys
import time

CONFIGS = {
    "tiny": dict(I=2, H=8, B=1, T=100),
    "small": dict(I=2, H=32, B=16, T=200),
    "medium": dict(I=2, H=128, B=32, T=200),
    "wide": dict(I=64, H=256, B=64, T=100),
    "long": dict(I=2, H=128, B=32, T=1000),
}


def measure(fn, sync, runs=7, min_run_s=0.15, warmup_s=0.3, warmup_calls=10):
    """Median over runs of seconds per call; `sync` waits for the device."""
    start = time.perf_counter()
    calls = 0
    while calls < warmup_calls or time.perf_counter() - start < warmup_s:
        fn()
        calls += 1
    sync()
    t = time.perf_counter()
    fn()
    sync()
    one = max(time.perf_counter() - t, 1e-6)
    per_run = max(1, int(round(min_run_s / one)))
    results = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(per_run):
            fn()
        sync()
        results.append((time.perf_counter() - t) / per_run)
    return {"ms": statistics.median(results) * 1e3, "runs_ms": [r * 1e3 for r in results], "calls_per_run": per_run}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--cells", default="lstm,rnn")
    ap.add_argument("--json")
    args = ap.parse_args()

    import torch  # imported here so --help works without PyTorch

    if not torch.cuda.is_available():
        sys.exit("torch_cudnn_bench: CUDA is not available (this reference is cuDNN on an NVIDIA GPU)")
    dev = torch.device("cuda")
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    info = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "gpu": torch.cuda.get_device_name(0),
    }
    print(f"PyTorch {info['torch']}, CUDA {info['cuda']}, cuDNN {info['cudnn']}, {info['gpu']}")
    results = []
    for name in args.configs.split(","):
        c = CONFIGS[name]
        I, H, B, T = c["I"], c["H"], c["B"], c["T"]
        g = torch.Generator(device="cpu").manual_seed(12345)
        x = (torch.rand(T, B, I, generator=g) * 2 - 1).to(dev)
        target = (torch.rand(B, 1, generator=g) * 2 - 1).to(dev)
        for cell in args.cells.split(","):
            torch.manual_seed(0)
            rnn = (torch.nn.LSTM(I, H) if cell == "lstm" else torch.nn.RNN(I, H, nonlinearity="tanh")).to(dev)
            readout = torch.nn.Linear(H, 1).to(dev)
            params = list(rnn.parameters()) + list(readout.parameters())
            opt = torch.optim.Adam(params, lr=1e-3)
            mse = torch.nn.MSELoss()

            def step():
                opt.zero_grad(set_to_none=True)
                out, _ = rnn(x)
                loss = mse(readout(out[-1]), target)
                loss.backward()
                opt.step()
                return loss

            def forward():
                with torch.no_grad():
                    out, _ = rnn(x)
                    return readout(out[-1])

            sync = torch.cuda.synchronize
            r = {
                "config": name,
                **c,
                "cell": cell,
                "step_sync": measure(lambda: step().item(), sync),
                "step_async": measure(step, sync),
                "forward_sync": measure(lambda: forward().cpu(), sync),
            }
            results.append(r)
            print(
                f"{name:6} {cell:4} torch cuDNN: {r['step_sync']['ms']:.3f} ms/step (sync), "
                f"{r['step_async']['ms']:.3f} ms/step (async), {r['forward_sync']['ms']:.3f} ms/fwd"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
