#!/usr/bin/env python3
"""MobileNetV2 1.0 at 224x224 in torchvision's layout, random weights, to ONNX.

The peers bench (`quantgpu bench`) needs an ImageNet-sized network exported
the way PyTorch users export theirs. torchvision is not packaged by Debian,
so its layout is written out here by hand: the same modules in the same order
(features: a 3x3/2 stem, the 17 inverted residual blocks of the paper's table,
a 1x1 to 1280; then global average pooling, dropout and a 1000-way linear),
with torchvision's initialisation. The weights are random (seeded), with the
BatchNorm statistics of one pass over random images: the bench measures speed
and compares engines on the same network, not accuracy.

    /usr/bin/python3 tools/train/mobilenet_v2_224.py --out bench/.cache/

Writes <out>/mobilenetv2-224-torch.onnx and its model card beside it (.json).
The ONNX export is train.py's (opset 13, TorchScript exporter, BatchNormalization
kept as nodes); about 14 MB, so it is not committed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import OPSET, export_onnx  # noqa: E402

# (expansion t, output channels c, repeats n, first stride s): table 2 of the MobileNetV2 paper, as torchvision has it.
SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def conv_bn_relu6(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res_connect = stride == 1 and cin == cout
        layers = [] if expand == 1 else [conv_bn_relu6(cin, hidden, k=1)]
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        features = [conv_bn_relu6(3, 32, stride=2)]
        cin = 32
        for t, c, n, s in SETTINGS:
            for i in range(n):
                features.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        features.append(conv_bn_relu6(cin, 1280, k=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))
        # torchvision's initialisation.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.classifier(torch.flatten(x, 1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder to write into")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = MobileNetV2()
    # Freshly initialised BatchNorms (mean 0, variance 1) let the activations fade block by block
    # (logits near 1e-9), which would make the bench's output checks vacuous. One pass in training
    # mode over seeded images with a cumulative average sets each BatchNorm to its input's statistics,
    # as training would, so every layer sees activations of order one.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    with torch.no_grad():
        model.train()(torch.rand(16, 3, 224, 224))
    model.eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 224, 224))
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, "mobilenetv2-224-torch")
    ops = export_onnx(model, 224, base + ".onnx", channels=3)
    card = {
        "name": "mobilenetv2-224-torch",
        "architecture": "MobileNetV2 1.0 at 224x224 in torchvision's layout, random weights (seed %d)" % args.seed,
        "input": {
            "name": "input",
            "shape": ["N", 3, 224, 224],
            "layout": "NCHW",
            "dtype": "float32",
            "scale": 1 / 255,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        "output": {"name": "logits", "shape": ["N", 1000]},
        "parameters": sum(p.numel() for p in model.parameters()),
        "onnx": {"opset": OPSET, "ops": ops, "torch": torch.__version__},
    }
    with open(base + ".json", "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {base}.onnx ({os.path.getsize(base + '.onnx')} bytes) ops {ops}; max |logit| on a random image {logits.abs().max().item():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
