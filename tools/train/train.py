#!/usr/bin/env python3
"""Train one model of the quantgpu zoo on the CPU and export it to ONNX.

Example:
    /usr/bin/python3 tools/train/train.py --arch vgg --dataset fashion-mnist \
        --epochs 5 --out models/

Writes  <out>/<prefix>-<arch>.onnx  and the model card  <out>/<prefix>-<arch>.json
(prefix: "fashion" or "digits").  With --reference K it also writes the first K
test images, preprocessed exactly as the card describes, to
<out>/<prefix>-<arch>.input.npy (float32, NCHW) and their labels to
<out>/<prefix>-<arch>.labels.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

# Sleep instead of spinning at OpenMP barriers: the build machine is shared,
# and spinning threads make a contended 2-core box dramatically slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as datasets  # noqa: E402
import models  # noqa: E402

PREFIX = {"fashion-mnist": "fashion", "digits": "digits"}
OPSET = 13

# Per-(dataset, arch) defaults; every one can be overridden on the command line.
DEFAULTS = {
    ("fashion-mnist", "vgg"): dict(epochs=6, lr=3e-3, batch=128),
    ("fashion-mnist", "resnet"): dict(epochs=6, lr=3e-3, batch=128),
    ("fashion-mnist", "mbv2"): dict(epochs=5, lr=4e-3, batch=128),
    ("fashion-mnist", "mbv3"): dict(epochs=5, lr=4e-3, batch=128),
    ("digits", "vgg"): dict(epochs=40, lr=3e-3, batch=64),
    ("digits", "resnet"): dict(epochs=40, lr=3e-3, batch=64),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", required=True, choices=sorted(models.ARCHS))
    p.add_argument("--dataset", required=True, choices=sorted(PREFIX))
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-augment", action="store_true", help="disable random crop + horizontal flip")
    p.add_argument("--out", default="models")
    p.add_argument("--reference", type=int, default=0, metavar="K",
                   help="also write the first K preprocessed test images and their labels")
    args = p.parse_args(argv)
    key = (args.dataset, args.arch)
    d = DEFAULTS.get(key, dict(epochs=5, lr=3e-3, batch=128))
    for k, v in d.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    return args


def set_determinism(seed: int, threads: int):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def augment(x: torch.Tensor, gen: torch.Generator, background: float, flip: bool, pad: int) -> torch.Tensor:
    """Random crop (zero-pixel padding of `pad` on each side) and optional
    horizontal flip, drawn per sample from `gen`."""
    b, c, h, w = x.shape
    if pad > 0:
        padded = F.pad(x, (pad, pad, pad, pad), value=background)
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        rows = (dy[:, None] + torch.arange(h)[None, :])  # (b, h)
        cols = (dx[:, None] + torch.arange(w)[None, :])  # (b, w)
        bi = torch.arange(b)[:, None, None]
        x = torch.stack([padded[bi, ch, rows[:, :, None], cols[:, None, :]] for ch in range(c)], 1)
    if flip:
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(3), x)
    return x


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(y), batch):
        xb = x[i : i + batch].contiguous(memory_format=torch.channels_last)
        correct += int((model(xb).argmax(1) == y[i : i + batch]).sum())
    return correct / len(y)


def train(args, ds: datasets.Dataset, model: nn.Module, log):
    side = ds.x_train.shape[-1]
    x_train = torch.from_numpy(ds.normalise(ds.x_train))
    y_train = torch.from_numpy(ds.y_train)
    x_test = torch.from_numpy(ds.normalise(ds.x_test))
    y_test = torch.from_numpy(ds.y_test)
    background = float(-ds.mean / ds.std)  # value of a zero pixel after preprocessing

    # Fashion-MNIST: crop with padding 2 + horizontal flip.  Digits are not
    # mirror-symmetric and only 8 pixels wide: shift by at most 1, no flip.
    flip = ds.name == "fashion-mnist"
    pad = 2 if side == 28 else 1
    if args.no_augment:
        flip, pad = False, 0

    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, foreach=False)
    steps_per_epoch = math.ceil(len(y_train) / args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
        pct_start=0.25, div_factor=20.0, final_div_factor=200.0,
    )
    gen = torch.Generator().manual_seed(args.seed)
    history = []
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(y_train), generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        te = time.time()
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch : (s + 1) * args.batch]
            if len(idx) < 2:  # BatchNorm needs more than one sample
                continue
            xb = augment(x_train[idx], gen, background, flip, pad)
            xb = xb.contiguous(memory_format=torch.channels_last)
            yb = y_train[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss) * len(idx)
            correct += int((out.argmax(1) == yb).sum())
            seen += len(idx)
        acc = evaluate(model, x_test, y_test)
        rec = dict(epoch=epoch + 1, loss=round(loss_sum / seen, 5), trainAcc=round(correct / seen, 5),
                   testAcc=round(acc, 5), seconds=round(time.time() - te, 1))
        history.append(rec)
        log(json.dumps(rec))
    seconds = time.time() - t0
    model = model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model, seconds, history


def export_onnx(model: nn.Module, side: int, path: str, channels: int = 1):
    import onnx

    model.eval()
    dummy = torch.zeros(1, channels, side, side)
    kwargs = dict(
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        opset_version=OPSET,
        do_constant_folding=True,
        # PRESERVE on an eval-mode model exports BatchNorm in inference form but
        # skips the exporter's eval-mode peephole that folds BN into the Conv,
        # so the graph keeps its BatchNormalization nodes.
        training=torch.onnx.TrainingMode.PRESERVE,
    )
    try:  # newer torch: make sure the TorchScript exporter is used
        import inspect

        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kwargs["dynamo"] = False
    except (TypeError, ValueError):
        pass
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        # torch warns that constant folding may alter parameters in
        # training-amenable export; the model is in eval mode, so it does not.
        warnings.filterwarnings("ignore", message=".*constant folding.*")
        torch.onnx.export(model, dummy, path, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return ops


def main(argv=None):
    args = parse_args(argv)
    set_determinism(args.seed, args.threads)
    prefix = PREFIX[args.dataset]
    base = os.path.join(args.out, f"{prefix}-{args.arch}")
    os.makedirs(args.out, exist_ok=True)

    def log(msg):
        print(f"[{prefix}-{args.arch}] {msg}", flush=True)

    ds = datasets.load(args.dataset)
    side = ds.x_train.shape[-1]
    model = models.build(args.arch, side)
    params = models.count_params(model)
    macs = models.count_macs(model, side)
    log(f"train {ds.x_train.shape} test {ds.x_test.shape} params {params} macs {macs} "
        f"epochs {args.epochs} lr {args.lr} batch {args.batch} threads {args.threads}")

    model, seconds, history = train(args, ds, model, log)

    x_test = torch.from_numpy(ds.normalise(ds.x_test))
    acc = evaluate(model, x_test, torch.from_numpy(ds.y_test))
    log(f"final test accuracy {acc:.4f} after {seconds:.0f} s")

    ops = export_onnx(model, side, base + ".onnx")
    log(f"wrote {base}.onnx ({os.path.getsize(base + '.onnx')} bytes) ops {ops}")

    card = {
        "name": f"{prefix}-{args.arch}",
        "architecture": args.arch,
        "description": models.DESCRIPTIONS[args.arch],
        "dataset": ds.name,
        "input": {
            "name": "input",
            "shape": ["N", 1, side, side],
            "layout": "NCHW",
            "dtype": "float32",
            "scale": ds.scale,
            "mean": [ds.mean],
            "std": [ds.std],
            "formula": "float = (pixel * scale - mean) / std",
        },
        "output": {"name": "logits", "shape": ["N", len(ds.classes)]},
        "classes": ds.classes,
        "torchAccuracy": acc,
        "testImages": int(len(ds.y_test)),
        "parameters": params,
        "macs": macs,
        "training": {
            "epochs": args.epochs,
            "optimizer": "AdamW",
            "lr": args.lr,
            "schedule": "OneCycleLR(pct_start=0.25, div_factor=20, final_div_factor=200), stepped per batch",
            "weightDecay": args.weight_decay,
            "batch": args.batch,
            "seed": args.seed,
            "threads": args.threads,
            "augmentation": ("none" if args.no_augment else
                             ("random crop (pad 2 with background) + horizontal flip" if ds.name == "fashion-mnist"
                              else "random shift by up to 1 pixel (crop with pad 1), no flip")),
            "seconds": round(seconds, 1),
            "history": history,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "onnx": {
            "file": os.path.basename(base + ".onnx"),
            "opset": OPSET,
            "exporter": "torch.onnx.export (TorchScript), training=PRESERVE on an eval-mode model, "
                        "constant folding on, no simplifier",
            "ops": ops,
        },
        "split": ds.split,
        "source": ds.source,
    }
    with open(base + ".json", "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    log(f"wrote {base}.json")

    if args.reference > 0:
        k = args.reference
        ref = ds.normalise(ds.x_test[:k]).astype(np.float32)
        np.save(base + ".input.npy", ref)
        with open(base + ".labels.json", "w") as f:
            json.dump([int(v) for v in ds.y_test[:k]], f)
            f.write("\n")
        with torch.no_grad():
            logits = model(torch.from_numpy(ref)).numpy()
        log(f"wrote {base}.input.npy {ref.shape} labels {ds.y_test[:k].tolist()} "
            f"torch argmax {logits.argmax(1).tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
