#!/usr/bin/python3
"""Rewrite a QONNX model's Quant nodes into standard ONNX operators.

A second, independent reading of QONNX's integer quantizer (``Quant``, named
``IntQuant`` in newer qonnx; domains qonnx.custom_op.general,
finn.custom_op.general, onnx.brevitas), taken from its specification
(qonnx docs/qonnx-custom-ops/intquant_v1.md) and not from quantgpu's
exporter. With inputs X, scale, zeropt and bitwidth and the attributes
signed, narrow and rounding_mode, a Quant computes, in float32:

    q = X / scale + zeropt
    q = clip(q, min_int, max_int)       range from bitwidth, signed, narrow
    q = round(q)                        ROUND: half to even (ONNX Round)
    Y = (q - zeropt) * scale

with min_int, max_int = -2^(b-1) (+1 if narrow), 2^(b-1) - 1 when signed,
and 0, 2^b - 1 (-1 if narrow) when not. Each Quant becomes Div, Add, Clip,
Round, Sub and Mul (CEIL and FLOOR become Ceil and Floor; other modes are
refused). The result is checked with onnx.checker and written as a plain
ONNX file that any ONNX runtime runs. Debian's python3-onnx 1.12 has no
reference evaluator; the tests run the file in onnxruntime-node.

  /usr/bin/python3 tools/train/qonnx_reference.py IN.qonnx.onnx OUT.onnx
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

QUANT_DOMAINS = {"qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"}
ROUNDING = {"ROUND": "Round", "CEIL": "Ceil", "FLOOR": "Floor"}


def int_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    """The integer range of a bit width, as the spec's min_int and max_int define it."""
    if signed:
        return -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - (1 if narrow else 0)


def constant_values(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    values[n.output[0]] = numpy_helper.to_array(a.t)
    return values


def rewrite(model: onnx.ModelProto) -> int:
    """Replace every Quant node in place; return how many there were."""
    graph = model.graph
    consts = constant_values(graph)
    used = {t.name for t in graph.initializer} | {o for n in graph.node for o in n.output} | {i.name for i in graph.input}
    nodes: list[onnx.NodeProto] = []
    count = 0

    def fresh(base: str) -> str:
        name, k = base, 1
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        return name

    def scalar(value: float, base: str) -> str:
        name = fresh(base)
        graph.initializer.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    for n in graph.node:
        if n.op_type not in ("Quant", "IntQuant") or n.domain not in QUANT_DOMAINS:
            nodes.append(n)
            continue
        count += 1
        x, scale, zeropt, bitwidth = n.input
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        signed = bool(attrs.get("signed", 1))
        narrow = bool(attrs.get("narrow", 0))
        mode = attrs.get("rounding_mode", b"ROUND")
        mode = (mode.decode() if isinstance(mode, bytes) else mode).upper()
        if mode not in ROUNDING:
            sys.exit(f"node {n.name}: rounding_mode {mode} has no ONNX operator here")
        if bitwidth not in consts:
            sys.exit(f"node {n.name}: bitwidth {bitwidth} is not a constant")
        bits = float(np.asarray(consts[bitwidth]).reshape(-1)[0])
        if bits != int(bits) or bits < 1:
            sys.exit(f"node {n.name}: bitwidth {bits} is not a positive integer")
        lo, hi = int_range(int(bits), signed, narrow)
        y = n.output[0]
        base = n.name or y

        def step(op: str, inputs: list[str], out: str | None = None) -> str:
            out = out or fresh(f"{base}/{op.lower()}")
            nodes.append(helper.make_node(op, inputs, [out], name=fresh(f"{base}/{op}")))
            return out

        q = step("Div", [x, scale])
        q = step("Add", [q, zeropt])
        # float32 bounds: 2^31 - 1 rounds up to 2^31 in float32, a bound no 32-bit code reaches.
        q = step("Clip", [q, scalar(lo, f"{base}/min_int"), scalar(hi, f"{base}/max_int")])
        q = step(ROUNDING[mode], [q])
        q = step("Sub", [q, zeropt])
        step("Mul", [q, scale], y)
    del graph.node[:]
    graph.node.extend(nodes)
    # The bit widths (and anything else only a Quant read) are read by no node now.
    read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    unused = [t for t in graph.initializer if t.name not in read]
    for t in unused:
        graph.initializer.remove(t)
    # No node of QONNX's domains is left: drop their opset entries.
    kept = [o for o in model.opset_import if o.domain not in QUANT_DOMAINS]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="a QONNX model")
    parser.add_argument("output", help="where to write the plain ONNX model")
    args = parser.parse_args()
    model = onnx.load(args.input)
    count = rewrite(model)
    if count == 0:
        sys.exit(f"{args.input}: no Quant node in QONNX's domains")
    # This onnx (1.12) checks IR versions up to its own; the graph uses nothing newer than that IR holds.
    model.ir_version = min(model.ir_version, onnx.IR_VERSION)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, args.output)
    print(f"{args.output}: {count} Quant nodes rewritten into standard operators")


if __name__ == "__main__":
    main()
