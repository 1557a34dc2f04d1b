#!/usr/bin/python3
"""Write a zoo model quantized the way other tools write quantized ONNX.

Two layouts, both calibrated on the first --calib training images:

  ort-qdq   QuantizeLinear/DequantizeLinear pairs laid out as ONNX Runtime's
            ``quantize_static`` writes them (QDQ format, MinMax calibration,
            uint8 activations with zero points, int8 symmetric weights per
            output channel on axis 0, int32 biases with scale S_in * S_w, the
            ReLU after a Conv/Gemm/Add removed into the zero point of that
            output, MaxPool sharing its input's parameters, operators that
            are not among its QDQ operators (GlobalAveragePool, Flatten) left
            in float, their output quantized where a quantized operator reads it).
            ONNX Runtime's Python quantizer cannot be installed here, so the
            layout is written by hand with onnx.helper, following its rules
            (onnxruntime/python/tools/quantization: quant_utils.compute_scale_zp,
            quantize_data, quantize_bias_static).
  torch-ao  PyTorch's eager-mode static quantization (torch.ao.quantization,
            the qnnpack engine, Debian's torch having no fbgemm: fused Conv+BN+ReLU, observers,
            convert) exported by torch.onnx.export, as that version writes it.

The float weights come from the zoo's ONNX file: ort-qdq folds its
BatchNormalization nodes into the convolutions and quantizes its graph
(the VGG and the ResNet: Conv, Relu, MaxPool, Add, GlobalAveragePool,
Flatten, Gemm); torch-ao loads them into the torch module by name. Run with Debian's interpreter:

  /usr/bin/python3 tools/train/quantized.py --model models/fashion-vgg.onnx \\
      --arch vgg --layout ort-qdq --out /tmp/fashion-vgg.qdq.onnx
"""

from __future__ import annotations

import argparse
import io
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as datasets  # noqa: E402
import models  # noqa: E402

OPSET = 13


def load_torch(arch: str, onnx_path: str) -> nn.Module:
    """The zoo model as a torch module, its weights read from the ONNX file."""
    model = models.build(arch, 28)
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(onnx_path).graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in inits and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"{onnx_path}: no initializer for {missing[:3]} (not a {arch} of the zoo?)")
    model.load_state_dict({k: inits.get(k, v) for k, v in state.items()})
    return model.eval()


def calibration_images(count: int) -> torch.Tensor:
    ds = datasets.load_fashion()
    return torch.from_numpy(ds.normalise(ds.x_train[:count]))


def export(model: nn.Module, **kwargs) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), buf, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=OPSET, **kwargs)
    return onnx.load_from_string(buf.getvalue())


# ---------------------------------------------------------------- ORT's QDQ layout

def run_graph(g: onnx.GraphProto, x: torch.Tensor) -> dict:
    """Every tensor of a float graph of the zoo's operators, on a batch."""
    v = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    v[g.input[0].name] = x
    for n in g.node:
        a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
        i = [v[name] if name else None for name in n.input]
        if n.op_type == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3], "asymmetric pads"
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), pads[:2], a.get("dilations", [1, 1]), a.get("group", 1))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "MaxPool":
            y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), a.get("pads", [0, 0, 0, 0])[:2])
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = torch.flatten(i[0], a.get("axis", 1))
        elif n.op_type == "Gemm":
            assert a.get("transB", 0) == 1 and a.get("transA", 0) == 0
            y = F.linear(i[0], i[1], i[2] if len(i) > 2 else None)
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "Identity":
            y = i[0]
        else:
            raise SystemExit(f"run_graph: operator {n.op_type} is not one of the zoo's")
        v[n.output[0]] = y
    return v


def activation_qparams(lo: float, hi: float) -> tuple:
    """uint8 scale and zero point from a MinMax range, as compute_scale_zp does (range widened to hold 0)."""
    rmin, rmax = np.float32(min(lo, 0.0)), np.float32(max(hi, 0.0))
    scale = np.float32((rmax - rmin) / np.float32(255)) if rmax > rmin else np.float32(1.0)
    zp = int(np.clip(np.round(np.float32(0) - rmin / scale), 0, 255))
    return scale, zp


def weight_qparams(w: np.ndarray) -> tuple:
    """int8 symmetric per output channel (axis 0): scale max|w| / 127, codes rounded half to even."""
    flat = w.reshape(w.shape[0], -1)
    rmax = np.maximum(np.abs(np.minimum(flat.min(axis=1), 0)), np.maximum(flat.max(axis=1), 0)).astype(np.float32)
    scale = np.where(rmax > 0, rmax / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.round(flat / scale[:, None]), -127, 127).astype(np.int8).reshape(w.shape)
    return scale, q


def fold_batch_norm(m: onnx.ModelProto) -> onnx.ModelProto:
    """Each Conv followed by its only reader, a BatchNormalization, as one Conv with a bias (ORT's pre-processing does this)."""
    g = m.graph
    inits = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in g.initializer}
    readers = {}
    for n in g.node:
        for name in n.input:
            readers.setdefault(name, []).append(n)
    nodes, folded = [], set()
    for n in g.node:
        if n.op_type == "Identity" and n.input[0] in inits:
            # torch's exporter writes equal constants once, the others as Identity of it.
            inits[n.output[0]] = inits[n.input[0]]
            continue
        if n.name in folded:
            continue
        bn = readers.get(n.output[0], [None])[0] if n.op_type == "Conv" else None
        if bn is None or bn.op_type != "BatchNormalization" or len(readers[n.output[0]]) != 1:
            nodes.append(n)
            continue
        eps = next((helper.get_attribute_value(a) for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (inits[i] for i in bn.input[1:5])
        k = (gamma / np.sqrt(var + np.float32(eps))).astype(np.float32)
        w = inits[n.input[1]] * k[:, None, None, None]
        b = (inits[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros_like(k)) * k + beta - mean * k
        wn, bname = f"{n.name}.weight_folded", f"{n.name}.bias_folded"
        g.initializer.extend([numpy_helper.from_array(w.astype(np.float32), wn), numpy_helper.from_array(b.astype(np.float32), bname)])
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        nodes.append(helper.make_node("Conv", [n.input[0], wn, bname], [bn.output[0]], name=n.name, **attrs))
        folded.add(bn.name)
    del g.node[:]
    g.node.extend(nodes)
    return m


def ort_qdq(onnx_path: str, calib: torch.Tensor) -> onnx.ModelProto:
    # ORT's pre-processing folds BatchNorm into the Conv before quantizing.
    fm = fold_batch_norm(onnx.load(onnx_path))
    g = fm.graph
    with torch.no_grad():
        values = run_graph(g, calib)
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    consumers = {}
    for n in g.node:
        for name in n.input:
            consumers.setdefault(name, []).append(n)
    # ReLU after Conv/Gemm/Add: removed, the producer writes the ReLU's output (QDQRemovableActivation).
    removed, rename = set(), {}
    for n in g.node:
        if n.op_type == "Relu":
            prod = next((p for p in g.node if n.input[0] in p.output), None)
            if prod is not None and prod.op_type in ("Conv", "Gemm", "Add") and len(consumers[n.input[0]]) == 1:
                removed.add(n.name)
                rename[n.input[0]] = n.output[0]
    nodes, new_inits, params = [], [], {}
    # quantize_static's QDQ operators among the zoo's (Relu is removed above); MaxPool keeps its input's parameters.
    registered = {"Conv", "Gemm", "Add", "MaxPool"}
    same_as_input = {"MaxPool"}

    def const(name, arr):
        new_inits.append(numpy_helper.from_array(arr, name))
        return name

    graph_outputs = {o.name for o in g.output}
    deq = {}  # a float tensor -> the DequantizeLinear output its readers take

    def produced(t):
        """The name an operator writes: a graph output is renamed so that its DequantizeLinear can keep the name."""
        return f"{t}_QuantizeLinear_Input" if t in graph_outputs else t

    def qdq(t, scale, zp):
        """QuantizeLinear -> DequantizeLinear after tensor t (ORT's names: _QuantizeLinear_Output, _DequantizeLinear_Output)."""
        s, z = const(f"{t}_scale", np.array(scale, np.float32)), const(f"{t}_zero_point", np.array(zp, np.uint8))
        out = t if t in graph_outputs else f"{t}_DequantizeLinear_Output"
        nodes.append(helper.make_node("QuantizeLinear", [produced(t), s, z], [f"{t}_QuantizeLinear_Output"], name=f"{t}_QuantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{t}_QuantizeLinear_Output", s, z], [out], name=f"{t}_DequantizeLinear"))
        params[t] = (scale, zp)
        deq[t] = out

    x = g.input[0].name
    qdq(x, *activation_qparams(float(values[x].min()), float(values[x].max())))
    for n in g.node:
        if n.name in removed:
            continue
        o = rename.get(n.output[0], n.output[0])
        src = list(n.input)
        ins = [deq.get(i, i) for i in src]
        if n.op_type in ("Conv", "Gemm"):
            w = inits[src[1]]
            ws, wq = weight_qparams(w)
            wn = const(f"{src[1]}_quantized", wq)
            nodes.append(helper.make_node("DequantizeLinear", [wn, const(f"{src[1]}_scale", ws), const(f"{src[1]}_zero_point", np.zeros(len(ws), np.int8))], [f"{src[1]}_DequantizeLinear_Output"], name=f"{src[1]}_DequantizeLinear", axis=0))
            ins[1] = f"{src[1]}_DequantizeLinear_Output"
            if len(src) > 2 and src[2]:
                bs = (np.float32(params[src[0]][0]) * ws).astype(np.float32)
                bq = np.round(inits[src[2]] / bs).astype(np.int32)
                bn = src[2]
                nodes.append(helper.make_node("DequantizeLinear", [const(f"{bn}_quantized", bq), const(f"{bn}_quantized_scale", bs), const(f"{bn}_quantized_zero_point", np.zeros(len(bs), np.int32))], [f"{bn}_DequantizeLinear_Output"], name=f"{bn}_DequantizeLinear", axis=0))
                ins[2] = f"{bn}_DequantizeLinear_Output"
        nodes.append(helper.make_node(n.op_type, ins, [produced(o)], name=n.name, **{a.name: helper.get_attribute_value(a) for a in n.attribute}))
        if n.op_type not in registered:
            # Not among the quantizer's QDQ operators: its output stays float unless a quantized operator reads it.
            if not any(r.op_type in registered and r.op_type not in same_as_input for r in consumers.get(n.output[0], [])):
                continue
            qdq(o, *activation_qparams(float(values[o].min()), float(values[o].max())))
        elif n.op_type in same_as_input:
            qdq(o, *params[src[0]])
        else:
            qdq(o, *activation_qparams(float(values[o].min()), float(values[o].max())))
    keep = [t for t in g.initializer if t.name in {i for nd in nodes for i in nd.input}]
    graph = helper.make_graph(nodes, "qdq", list(g.input), list(g.output), keep + new_inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="quantgpu tools/train/quantized.py (ONNX Runtime quantize_static layout)")
    onnx.checker.check_model(m, full_check=True)
    return m


# ---------------------------------------------------------------- torch.ao

class Quantizable(nn.Module):
    def __init__(self, body: nn.Module):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.body = body
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.body(self.quant(x)))


def torch_ao(model: nn.Module, calib: torch.Tensor, backend: str) -> onnx.ModelProto:
    if not isinstance(model, models.VGG):
        raise SystemExit("torch-ao: eager mode needs the model's fusions spelled out; written for the VGG only")
    torch.backends.quantized.engine = backend
    for seq in model.features:
        if isinstance(seq, nn.Sequential):
            torch.ao.quantization.fuse_modules(seq, [["0", "1", "2"]], inplace=True)
    # Linear+ReLU stays unfused: this torch's exporter has no symbolic for quantized::linear_relu.
    q = Quantizable(model).eval()
    q.qconfig = torch.ao.quantization.get_default_qconfig(backend)
    torch.ao.quantization.prepare(q, inplace=True)
    with torch.no_grad():
        for b in calib.split(64):
            q(b)
    torch.ao.quantization.convert(q, inplace=True)
    m = export(q)
    onnx.checker.check_model(m)
    return m


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a zoo model's ONNX file (its weights)")
    p.add_argument("--arch", required=True, choices=sorted(models.ARCHS), help="torch-ao: the architecture that holds the weights (vgg)")
    p.add_argument("--layout", required=True, choices=["ort-qdq", "torch-ao"])
    # Debian's torch is built without FBGEMM ("quantized engine FBGEMM is not supported"): qnnpack is the engine here.
    p.add_argument("--backend", default="qnnpack", choices=list(torch.backends.quantized.supported_engines), help="torch-ao: the quantized engine and its default qconfig")
    p.add_argument("--calib", type=int, default=256, help="calibration images (the first of the training split)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    calib = calibration_images(a.calib)
    m = ort_qdq(a.model, calib) if a.layout == "ort-qdq" else torch_ao(load_torch(a.arch, a.model), calib, a.backend)
    onnx.save(m, a.out)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"{a.out}: {a.layout}: {ops}")


if __name__ == "__main__":
    main()
