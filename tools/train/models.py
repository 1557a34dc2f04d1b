"""Small CNNs for the quantgpu zoo (NCHW, one input channel, 10 classes).

Each builder takes the input side length (28 for Fashion-MNIST, 8 for digits)
and picks a layout that fits it.  All models are plain ``nn.Module`` graphs
made of ops that the legacy TorchScript ONNX exporter maps one-to-one:
Conv, BatchNormalization, Relu, Clip (ReLU6), HardSigmoid/Mul (Hardswish at
opset 13), MaxPool, GlobalAveragePool, Add, Mul, Flatten/Reshape, Gemm.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def conv_bn(cin, cout, k=3, stride=1, groups=1, act: type | None = nn.ReLU):
    layers = [
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------
# 1. VGG-style: conv-bn-relu stacks, max pooling, flatten, two dense layers
# --------------------------------------------------------------------------
class VGG(nn.Module):
    def __init__(self, side: int, num_classes: int = 10):
        super().__init__()
        if side == 28:
            # 28 -> 14 -> 7 -> 3
            cfg = [32, "M", 48, 48, "M", 96, "M"]
            hidden = 128
        elif side == 8:
            # 8 -> 4 -> 2
            cfg = [32, 32, "M", 64, 64, "M"]
            hidden = 128
        else:
            raise ValueError(f"VGG: unsupported input side {side}")
        layers = []
        cin, s = 1, side
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                s //= 2
            else:
                layers.append(conv_bn(cin, v))
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cin * s * s, hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


# --------------------------------------------------------------------------
# 2. ResNet-style: basic blocks with residual Add, one stride-2 block with a
#    1x1 projection shortcut, global average pool, linear head
# --------------------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                nn.BatchNorm2d(cout),
            )
        self.relu2 = nn.ReLU()

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return self.relu2(out + skip)


class ResNet(nn.Module):
    def __init__(self, side: int, num_classes: int = 10):
        super().__init__()
        if side == 28:
            # stem at 28x28, max pool to 14x14, blocks at 14 and 7
            self.stem = nn.Sequential(conv_bn(1, 16), nn.MaxPool2d(2))
            w1, w2 = 24, 48
        elif side == 8:
            # no pooling in the stem: blocks at 8x8 and 4x4
            self.stem = conv_bn(1, 16)
            w1, w2 = 16, 32
        else:
            raise ValueError(f"ResNet: unsupported input side {side}")
        self.layer1 = BasicBlock(16, w1, 1)  # 16 -> w1 uses a projection only if widths differ
        self.layer2 = BasicBlock(w1, w2, 2)  # stride 2 + 1x1 projection shortcut
        self.layer3 = BasicBlock(w2, w2, 1)  # identity shortcut
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w2, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


# --------------------------------------------------------------------------
# 3. MobileNetV2-style: inverted residuals with ReLU6
# --------------------------------------------------------------------------
class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = []
        if expand != 1:
            layers.append(conv_bn(cin, hidden, 1, act=nn.ReLU6))
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            conv_bn(hidden, cout, 1, act=None),  # linear bottleneck
        ]
        self.block = nn.Sequential(*layers)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV2(nn.Module):
    def __init__(self, side: int, num_classes: int = 10):
        super().__init__()
        if side != 28:
            raise ValueError("MobileNetV2 is only configured for 28x28 inputs")
        # (expand, out, repeats, first stride): 28 -> 14 -> 7
        cfg = [(1, 16, 1, 2), (4, 24, 2, 1), (4, 48, 2, 2), (4, 64, 1, 1)]
        layers = [conv_bn(1, 16, 3, 1, act=nn.ReLU6)]
        cin = 16
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 192, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.1)
        self.fc = nn.Linear(192, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        # reshape with the batch size read from the tensor: the exporter writes
        # this as Shape/Gather/Unsqueeze/Concat/Reshape instead of Flatten.
        x = x.reshape(x.shape[0], -1)
        return self.fc(self.dropout(x))


# --------------------------------------------------------------------------
# 4. MobileNetV3-style: hardswish, squeeze-excitation, depthwise convs
# --------------------------------------------------------------------------
class SqueezeExcite(nn.Module):
    def __init__(self, ch, squeeze):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(ch, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, ch, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        s = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return x * s


def _make_div(v, d=8):
    return max(d, int(v + d / 2) // d * d)


class V3Block(nn.Module):
    def __init__(self, cin, hidden, cout, k, stride, se: bool, act):
        super().__init__()
        layers = []
        if hidden != cin:
            layers.append(conv_bn(cin, hidden, 1, act=act))
        layers.append(conv_bn(hidden, hidden, k, stride, groups=hidden, act=act))
        if se:
            layers.append(SqueezeExcite(hidden, _make_div(hidden // 4)))
        layers.append(conv_bn(hidden, cout, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV3(nn.Module):
    def __init__(self, side: int, num_classes: int = 10):
        super().__init__()
        if side != 28:
            raise ValueError("MobileNetV3 is only configured for 28x28 inputs")
        HS, RE = nn.Hardswish, nn.ReLU
        # (kernel, hidden, out, SE, activation, stride)
        cfg = [
            (3, 16, 16, True, RE, 2),  # 28 -> 14
            (3, 64, 24, False, RE, 1),
            (3, 72, 24, False, RE, 1),
            (5, 96, 40, True, HS, 2),  # 7
            (5, 160, 40, True, HS, 1),
            (3, 120, 48, True, HS, 1),
        ]
        layers = [conv_bn(1, 16, 3, 1, act=HS)]
        cin = 16
        for k, h, c, se, act, s in cfg:
            layers.append(V3Block(cin, h, c, k, s, se, act))
            cin = c
        layers.append(conv_bn(cin, 192, 1, act=HS))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(192, 256),
            nn.Hardswish(),
            nn.Dropout(0.1),
            nn.Linear(256, num_classes),
        )

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


ARCHS = {
    "vgg": VGG,
    "resnet": ResNet,
    "mbv2": MobileNetV2,
    "mbv3": MobileNetV3,
}

DESCRIPTIONS = {
    "vgg": "VGG-style CNN: Conv-BatchNorm-ReLU blocks, MaxPool, Flatten, Linear-ReLU-Linear",
    "resnet": "ResNet-style CNN: basic residual blocks (Add), one stride-2 block with a 1x1 "
    "projection shortcut, GlobalAveragePool, Linear",
    "mbv2": "MobileNetV2-style: inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 linear "
    "project, Add when shapes match), ReLU6, BatchNorm, GlobalAveragePool, Reshape, Linear",
    "mbv3": "MobileNetV3-style: Hardswish/ReLU inverted residual blocks with depthwise 3x3/5x5 "
    "convs and squeeze-excitation (GlobalAveragePool, 1x1 conv, ReLU, 1x1 conv, Hardsigmoid, Mul), "
    "GlobalAveragePool, Linear-Hardswish-Linear",
}


def build(arch: str, side: int) -> nn.Module:
    return ARCHS[arch](side)


def count_params(model: nn.Module) -> int:
    """Trainable parameters (weights, biases, BN gamma/beta; not BN running stats)."""
    return int(sum(p.numel() for p in model.parameters()))


def count_macs(model: nn.Module, side: int) -> int:
    """Multiply-accumulates of all Conv2d and Linear layers for one image."""
    total = 0

    def conv_hook(m: nn.Conv2d, inp, out):
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, inp, out):
        nonlocal total
        total += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, side, side))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return int(total)


if __name__ == "__main__":
    for name in ARCHS:
        for side in (28, 8):
            try:
                m = build(name, side)
            except ValueError:
                continue
            print(f"{name:7s} side={side:2d} params={count_params(m):8d} macs={count_macs(m, side):9d}")
