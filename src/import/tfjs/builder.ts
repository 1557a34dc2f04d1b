import { ModelFormatError } from '../../errors.js';
import type { Graph, TensorInfo } from '../../ir/graph.js';
import { inferGraphShapes, inferLayerShapes } from '../../ir/infer-shapes.js';
import type { Activation, Layer } from '../../ir/layers.js';
import type { Dim, Shape } from '../../ir/shape.js';
import { NCHW_FROM_NHWC, NHWC_FROM_NCHW, isImageRank, isOrderPreserving } from './nhwc.js';

/**
 * The IR graph of an imported TF.js model, built one layer at a time. Both
 * importers hold rank-4 tensors as NCHW (see nhwc.ts); the builder supplies
 * the transposes at the edges: after each graph input and before each rank-4
 * output, and wherever an op must see the data in TF's order.
 */
export class GraphBuilder {
  readonly layers: Layer[] = [];
  readonly constants = new Map<string, { shape: number[]; data: Float32Array }>();
  readonly inputs: TensorInfo[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly producers = new Map<string, Layer>();
  private readonly tensorNames = new Set<string>();
  private readonly layerNames = new Set<string>();

  /** `reserved`: the model's own tensor names, which made-up names must not take. */
  constructor(reserved: Iterable<string>) {
    for (const n of reserved) this.tensorNames.add(n);
  }

  /** A tensor name not used yet, from `base` (taken as is when free). */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.shapes.has(name) || this.constants.has(name) || (name !== base && this.tensorNames.has(name)); k++) name = `${base}_${k}`;
    this.tensorNames.add(name);
    return name;
  }

  shape(ir: string): Shape {
    const s = this.shapes.get(ir);
    if (!s) throw new ModelFormatError(`tensor '${ir}' is read before it is defined`);
    return s;
  }

  /** A graph input with TF's shape; returns the IR tensor (NCHW for rank 4). */
  addInput(name: string, tf: Dim[]): string {
    const ir = this.fresh(name);
    this.inputs.push({ name: ir, shape: tf });
    this.shapes.set(ir, tf);
    return isImageRank(tf.length) ? this.transpose(ir, [...NCHW_FROM_NHWC], `${name}/to_nchw`) : ir;
  }

  constant(base: string, shape: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.constants.set(name, { shape, data });
    this.shapes.set(name, shape);
    return name;
  }

  /** Add a layer (its output names made unique) and return its first output. */
  emit(layer: Layer): string {
    layer.outputs = layer.outputs.map((o) => this.fresh(o));
    const ins = layer.inputs.map((n) => this.shape(n));
    const outs = inferLayerShapes(layer, ins);
    layer.outputs.forEach((o, i) => {
      this.shapes.set(o, outs[i]!);
      this.producers.set(o, layer);
    });
    let name = layer.name;
    for (let k = 1; this.layerNames.has(name); k++) name = `${layer.name}_${k}`;
    this.layerNames.add(name);
    layer.name = name;
    this.layers.push(layer);
    return layer.outputs[0]!;
  }

  activation(input: string, fn: Activation, name: string, out = name): string {
    return this.emit({ name, op: 'activation', fn, inputs: [input], outputs: [out] });
  }

  /** A transpose, or a reshape where only axes of size 1 move (no data moves then). */
  transpose(input: string, perm: number[], name: string, out = name): string {
    const s = this.shape(input);
    if (isOrderPreserving(s, perm)) {
      // A symbol that keeps its place is copied (0); one that moves is bound at run time.
      const shape = perm.map((p, i) => (typeof s[p] === 'number' || p !== i ? s[p]! : 0));
      return this.emit({ name, op: 'reshape', inputs: [input], outputs: [out], shape, allowZero: false });
    }
    return this.emit({ name, op: 'transpose', perm, inputs: [input], outputs: [out] });
  }

  /** The tensor in TF's element order (NHWC for rank 4), for ops whose meaning depends on it. */
  toTfOrder(ir: string, name: string): string {
    return isImageRank(this.shape(ir).length) ? this.transpose(ir, [...NHWC_FROM_NCHW], `${name}/to_nhwc`) : ir;
  }

  /** Back from TF's order to the IR's (the inverse of toTfOrder). */
  fromTfOrder(tfOrdered: string, name: string, out = name): string {
    return isImageRank(this.shape(tfOrdered).length) ? this.transpose(tfOrdered, [...NCHW_FROM_NHWC], `${name}/to_nchw`, out) : tfOrdered;
  }

  /**
   * Finish the graph. Each output is given under its TF name and in TF's
   * layout: rank-4 outputs get a transpose back to NHWC.
   */
  finish(name: string, outputs: ReadonlyArray<{ name: string; ir: string }>): Graph {
    const infos: TensorInfo[] = [];
    // Tensors renamed here, so that a tensor given out twice is still found.
    const moved = new Map<string, string>();
    for (const o of outputs) {
      const src = moved.get(o.ir) ?? o.ir;
      let ir = src;
      if (isImageRank(this.shape(src).length)) {
        if (src === o.name) {
          ir = this.rename(src, this.fresh(`${o.name}/nchw`));
          moved.set(src, ir);
        }
        ir = this.transpose(ir, [...NHWC_FROM_NCHW], `${o.name}/to_nhwc`, o.name);
      } else if (src !== o.name) {
        const free = !this.shapes.has(o.name) && !this.constants.has(o.name);
        const givenOutTwice = outputs.some((x) => x !== o && (moved.get(x.ir) ?? x.ir) === src);
        // Rename the producer's output when nothing else needs the old name; else copy.
        if (this.producers.has(src) && free && !givenOutTwice) {
          ir = this.rename(src, o.name);
          moved.set(o.ir, ir);
        } else {
          ir = this.emit({ name: `copy_${o.name}`, op: 'identity', inputs: [src], outputs: [o.name] });
        }
      }
      if (ir !== o.name) throw new ModelFormatError(`output '${o.name}' cannot be given its own name (it is used by another tensor)`);
      infos.push({ name: o.name, shape: this.shape(ir) });
    }
    const graph: Graph = { name, inputs: this.inputs, outputs: infos, layers: this.layers, constants: this.constants, shapes: new Map() };
    inferGraphShapes(graph);
    return graph;
  }

  /** Give a layer output another name, in its producer and every reader. */
  private rename(from: string, to: string): string {
    for (const l of this.layers) {
      l.inputs = l.inputs.map((n) => (n === from ? to : n));
      l.outputs = l.outputs.map((n) => (n === from ? to : n));
    }
    this.shapes.set(to, this.shapes.get(from)!);
    this.shapes.delete(from);
    const p = this.producers.get(from);
    if (p) this.producers.set(to, p);
    this.producers.delete(from);
    this.tensorNames.add(to);
    return to;
  }
}
