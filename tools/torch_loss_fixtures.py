"""Known values for lstm-lab's losses, computed by PyTorch.

Writes lib/nn/testdata/torch_losses.json: for MSE (nn.MSELoss), softmax cross-entropy (nn.CrossEntropyLoss) and
sigmoid binary cross-entropy (nn.BCEWithLogitsLoss), all with reduction="mean" over the rows a mask selects, the
outputs, targets, mask, the loss and its gradient w.r.t. the outputs (zero on unscored rows), in float64.
lib/nn/loss_test.ts compares.

Rerun (needs torch; made with torch 2.13.0+cpu):
    python tools/torch_loss_fixtures.py
"""
import json
import pathlib

import torch

torch.manual_seed(0)
R, O = 7, 3
out = {"torch": torch.__version__, "cases": []}
for kind in ["mse", "cross-entropy", "bce"]:
    for masked in [False, True]:
        y = (torch.randn(R, O, dtype=torch.float64) * 3).requires_grad_()
        mask = torch.tensor([1, 0, 1, 1, 0, 1, 1] if masked else [1] * R, dtype=torch.bool)
        if kind == "mse":
            target = torch.randn(R, O, dtype=torch.float64)
            loss = torch.nn.MSELoss()(y[mask], target[mask])
        elif kind == "cross-entropy":
            target = torch.randint(0, O, (R,))
            loss = torch.nn.CrossEntropyLoss()(y[mask], target[mask])
        else:
            target = torch.rand(R, O, dtype=torch.float64)
            loss = torch.nn.BCEWithLogitsLoss()(y[mask], target[mask])
        loss.backward()
        out["cases"].append({
            "kind": kind, "R": R, "O": O,
            "y": y.detach().flatten().tolist(),
            "target": target.flatten().tolist(),
            "mask": mask.int().tolist() if masked else None,
            "loss": loss.item(),
            "grad": y.grad.flatten().tolist(),
        })
path = pathlib.Path(__file__).resolve().parent.parent / "lib/nn/testdata/torch_losses.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path)
