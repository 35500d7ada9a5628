"""The PyTorch peer of `deno task bench` (bench/train_step_bench.ts runs it; see bench/README.md).

One process per thread count, started fresh by the bench with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS /
MKL_NUM_THREADS set to the thread count; the variables in the job's "unsetEnv" (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE)
are removed from its environment before torch (and with it OpenBLAS) is loaded:

    python3 bench/peers/torch_cpu.py JOB.json

JOB.json: {"threads": n, "unsetEnv": [names], "timing": {"runs", "minRunMs", "warmupMs", "warmupCalls"}, "budgetMs": b,
           "cases": [{"config", "cell", "I", "H", "B", "T", "x": "path of float32 (T, B, I)",
                      "target": "path of float32 (B)"}]}

The model is what a PyTorch user writes: nn.LSTM(I, H) (or nn.GRU(I, H), or nn.RNN(I, H), tanh), time-major input (T, B, I) as ours,
nn.Linear(H, 1) on the last step's output, MSELoss, torch.optim.Adam(lr=1e-3); a training step is zero_grad, forward,
loss, backward, step. The forward pass is the same forward under torch.no_grad(). Timing mirrors bench/timing.ts:
warm-up, calls per run so a run lasts minRunMs, the median of the runs' per-call means, within budgetMs per case.

Prints one JSON line per case ({"case": ...}) after an info line ({"info": ...}) naming torch's version, its thread
count and the BLAS library it runs on (the libraries mapped into this process, and torch's build configuration).
"""

import json
import os
import statistics
import sys
import time


def blas_info(torch):
    """Which BLAS this process runs on: the shared objects mapped in, and what torch was built with."""
    mapped = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if any(k in name for k in ("blas", "mkl", "lapack", "accelerate", "flexiblas")):
                    mapped.add(os.path.realpath(path))
    except OSError:
        pass
    config = torch.__config__.show()
    built = [ln.strip() for ln in config.splitlines() if "BLAS" in ln or "LAPACK" in ln]
    info = {"mapped": sorted(mapped), "build": built}
    try:
        import threadpoolctl  # optional: names the library and its threads precisely

        info["threadpoolctl"] = [
            {k: p.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer", "architecture")}
            for p in threadpoolctl.threadpool_info()
        ]
    except Exception:
        pass
    return info


def measure(fn, timing, deadline):
    calls, first, last = 0, 0.0, []
    start = time.perf_counter()
    while calls < timing["warmupCalls"] or (time.perf_counter() - start) * 1e3 < timing["warmupMs"]:
        t = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t) * 1e3
        if calls == 0:
            first = ms
        calls += 1
        last = (last + [ms])[-3:]
        if time.perf_counter() * 1e3 > deadline:
            break
    estimate = min(last)
    per_run = max(1, round(timing["minRunMs"] / max(estimate, 1e-3)))
    runs = []
    while len(runs) < timing["runs"]:
        guess = statistics.median(runs) if runs else estimate
        if time.perf_counter() * 1e3 + per_run * guess > deadline:
            break
        t = time.perf_counter()
        for _ in range(per_run):
            fn()
        runs.append((time.perf_counter() - t) * 1e3 / per_run)
    return {
        "ms": statistics.median(runs) if runs else None,
        "runs": runs,
        "callsPerRun": per_run,
        "warmup": {"calls": calls, "firstMs": first, "lastMs": last},
    }


def run_case(torch, c, timing, budget_ms):
    start = time.perf_counter() * 1e3
    I, H, B, T = c["I"], c["H"], c["B"], c["T"]
    torch.manual_seed(0)
    kinds = {"lstm": lambda: torch.nn.LSTM(I, H), "gru": lambda: torch.nn.GRU(I, H),
             "rnn": lambda: torch.nn.RNN(I, H, nonlinearity="tanh")}
    rnn = kinds[c["cell"]]()
    readout = torch.nn.Linear(H, 1)
    params = list(rnn.parameters()) + list(readout.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    x = torch.from_file(c["x"], size=T * B * I, dtype=torch.float32).view(T, B, I)
    y = torch.from_file(c["target"], size=B, dtype=torch.float32).view(B, 1)
    out = {"loss": float("nan")}

    def step():
        opt.zero_grad()
        h, _ = rnn(x)
        loss = loss_fn(readout(h[-1]), y)
        loss.backward()
        opt.step()
        out["loss"] = loss.item()

    def forward():
        with torch.no_grad():
            h, _ = rnn(x)
            readout(h[-1])

    s = measure(step, timing, start + budget_ms)
    f = measure(forward, timing, time.perf_counter() * 1e3 + budget_ms / 4) if s["ms"] is not None else None
    return {
        "status": "ok" if s["ms"] is not None else "over-budget",
        "buildMs": 0,
        "step": s,
        "forward": f,
        "loss": out["loss"],
    }


def main():
    job = json.load(open(sys.argv[1]))
    # OpenBLAS reads these when it is loaded (with torch, below); removing them here reaches the C library too.
    for k in job.get("unsetEnv", []):
        os.environ.pop(k, None)
    import torch

    torch.set_num_threads(job["threads"])
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # a product first: the BLAS library is mapped in by now
    info = {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "blas": blas_info(torch),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")},
    }
    print(json.dumps({"info": info}), flush=True)
    for c in job["cases"]:
        r = run_case(torch, c, job["timing"], job["budgetMs"])
        print(json.dumps({"case": {"config": c["config"], "cell": c["cell"]}, "result": r}), flush=True)


if __name__ == "__main__":
    main()
