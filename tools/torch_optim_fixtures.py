"""Known values for lstm-lab's optimizers and clipping, computed by PyTorch.

Writes lib/optim/testdata/torch_optim.json: for each optimizer configuration, the initial parameters, a fixed
sequence of gradients, and the parameters after every step, all in float64. lib/optim/optim_test.ts replays the
same gradients through our optimizers and compares.

Rerun (needs torch; made with torch 2.13.0+cpu):
    python tools/torch_optim_fixtures.py
"""
import json
import pathlib

import torch

torch.manual_seed(0)
N, STEPS = 12, 6
p0 = torch.randn(N, dtype=torch.float64)
grads = [torch.randn(N, dtype=torch.float64) * (1 + k) for k in range(STEPS)]

CONFIGS = [
    ("sgd", "SGD", dict(lr=0.1)),
    ("sgd_wd", "SGD", dict(lr=0.1, weight_decay=0.01)),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("rmsprop", "RMSprop", dict(lr=0.01)),
    ("rmsprop_momentum_centered", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_wd", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.1)),
]

out = {"torch": torch.__version__, "p0": p0.tolist(), "grads": [g.tolist() for g in grads], "cases": []}
for name, cls, kw in CONFIGS:
    p = torch.nn.Parameter(p0.clone())
    opt = getattr(torch.optim, cls)([p], **kw)
    traj = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        traj.append(p.detach().tolist())
    opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    out["cases"].append({"name": name, "torch_class": cls, "options": opts, "params_after_each_step": traj})

# Clipping by global norm (torch.nn.utils.clip_grad_norm_) and by value.
clip = []
for max_norm in [0.5, 100.0]:
    g = grads[2].clone()
    p = torch.nn.Parameter(p0.clone())
    p.grad = g
    norm = torch.nn.utils.clip_grad_norm_([p], max_norm)
    clip.append({"max_norm": max_norm, "grad": grads[2].tolist(), "norm": float(norm), "clipped": p.grad.tolist()})
g = grads[3].clone()
p = torch.nn.Parameter(p0.clone())
p.grad = g
torch.nn.utils.clip_grad_value_([p], 0.7)
out["clip_norm"] = clip
out["clip_value"] = {"limit": 0.7, "grad": grads[3].tolist(), "clipped": p.grad.tolist()}

path = pathlib.Path(__file__).resolve().parent.parent / "lib/optim/testdata/torch_optim.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path)
