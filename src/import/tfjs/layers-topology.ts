import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import { asArray, asNumber, asObject, asString, isObject, type JsonObject } from './json.js';

/**
 * The Keras topology of a TF.js layers model, reduced to calls: each call of
 * a layer (a Keras "node") reads tensors made by earlier calls and makes one.
 * Sequential models are chains; functional ones name each call's inputs as
 * [layer, node index, tensor index] in `inbound_nodes`.
 */
export interface KerasLayer {
  name: string;
  className: string;
  config: JsonObject;
}

export interface KerasCall {
  layer: KerasLayer;
  /** Which call of the layer this is (shared layers are called more than once). */
  index: number;
  inputs: string[];
  /** The key of the tensor the call makes. */
  output: string;
}

export interface KerasInput {
  name: string;
  /** Shape with the batch; null for unknown sizes. */
  batchShape: Array<number | null>;
  output: string;
}

export interface KerasTopology {
  name: string;
  inputs: KerasInput[];
  /** In an order where every call comes after the calls whose tensors it reads. */
  calls: KerasCall[];
  outputs: string[];
}

/** The key of the tensor that call `node` of `layer` makes (output `tensor`). */
export function tensorKey(layer: string, node: number, tensor: number): string {
  return `${layer}:${node}:${tensor}`;
}

const CONTAINERS = new Set(['Sequential', 'Model', 'Functional']);

/** Read `modelTopology` (its `model_config`, as Keras writes it, or the model itself, as TF.js saves it). */
export function parseKerasTopology(modelTopology: unknown): KerasTopology {
  const topo = asObject(modelTopology, 'modelTopology');
  const model = asObject(topo.model_config ?? topo, 'modelTopology.model_config');
  const className = asString(model.class_name, 'modelTopology: class_name');
  if (className === 'Sequential') return parseSequential(model.config);
  if (className === 'Model' || className === 'Functional') return parseFunctional(asObject(model.config, 'modelTopology: config'));
  throw new UnsupportedOperatorError(className, className, 'is not a model class that TF.js layers models use (Sequential, Model, Functional)');
}

function parseLayer(v: unknown, where: string): KerasLayer {
  const o = asObject(v, where);
  const className = asString(o.class_name, `${where}.class_name`);
  const config = asObject(o.config ?? {}, `${where}.config`);
  const name = asString(o.name ?? config.name, `${where}.name`);
  if (CONTAINERS.has(className)) throw new UnsupportedOperatorError(name, className, 'nested inside another model is not supported');
  return { name, className, config };
}

/** The batch input shape that an InputLayer or a model's first layer declares. */
export function declaredBatchShape(config: JsonObject): Array<number | null> | undefined {
  const v = config.batch_input_shape ?? config.batchInputShape ?? config.batch_shape;
  if (v === undefined || v === null) return undefined;
  return asArray(v, `layer '${String(config.name)}': batch_input_shape`).map((d, i) => (d === null ? null : asNumber(d, `batch_input_shape[${i}]`)));
}

function parseSequential(config: unknown): KerasTopology {
  // Keras 2.2 wrote the layer list itself; later versions wrap it with a name.
  const list = Array.isArray(config) ? config : asArray(asObject(config, 'Sequential config').layers, 'Sequential config.layers');
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'sequential';
  const layers = list.map((l, i) => parseLayer(l, `layer ${i}`));
  if (layers.length === 0) throw new ModelFormatError('the Sequential model has no layers');
  const first = layers[0]!;
  let inputLayer: KerasLayer;
  if (first.className === 'InputLayer') inputLayer = layers.shift()!;
  else inputLayer = { name: `${first.name}_input`, className: 'InputLayer', config: first.config };
  const batchShape = declaredBatchShape(inputLayer.config);
  if (!batchShape) throw new ModelFormatError(`the Sequential model's first layer '${first.name}' declares no batch_input_shape`);
  let prev = tensorKey(inputLayer.name, 0, 0);
  const calls = layers.map((layer) => {
    const call = { layer, index: 0, inputs: [prev], output: tensorKey(layer.name, 0, 0) };
    prev = call.output;
    return call;
  });
  return { name, inputs: [{ name: inputLayer.name, batchShape, output: tensorKey(inputLayer.name, 0, 0) }], calls, outputs: [prev] };
}

function parseFunctional(config: JsonObject): KerasTopology {
  const name = typeof config.name === 'string' ? config.name : 'model';
  const inputs: KerasInput[] = [];
  const calls: KerasCall[] = [];
  asArray(config.layers, 'model config.layers').forEach((v, i) => {
    const o = asObject(v, `layer ${i}`);
    const layer = parseLayer(o, `layer ${i}`);
    if (layer.className === 'InputLayer') {
      const batchShape = declaredBatchShape(layer.config);
      if (!batchShape) throw new ModelFormatError(`InputLayer '${layer.name}' declares no batch_input_shape`);
      inputs.push({ name: layer.name, batchShape, output: tensorKey(layer.name, 0, 0) });
      return;
    }
    asArray(o.inbound_nodes ?? [], `layer '${layer.name}': inbound_nodes`).forEach((node, k) => {
      const refs = inboundRefs(node, `layer '${layer.name}': inbound node ${k}`);
      if (refs.length === 0) throw new ModelFormatError(`layer '${layer.name}': inbound node ${k} names no input`);
      calls.push({ layer, index: k, inputs: refs, output: tensorKey(layer.name, k, 0) });
    });
  });
  const refList = (v: unknown, what: string): string[] => {
    const list = asArray(v, what);
    // A single model input or output may be written as one [name, node, tensor] triple.
    const triples = list.length > 0 && typeof list[0] === 'string' ? [list] : list;
    return triples.map((t, i) => refOf(t, `${what}[${i}]`));
  };
  const inputKeys = refList(config.input_layers, 'model config.input_layers');
  const ordered = inputKeys.map((key) => {
    const input = inputs.find((i) => i.output === key);
    if (!input) throw new ModelFormatError(`model input '${key}' is not an InputLayer of the model`);
    return input;
  });
  return { name, inputs: ordered, calls: sortCalls(calls, new Set(inputKeys)), outputs: refList(config.output_layers, 'model config.output_layers') };
}

/** The tensors one inbound node reads: Keras 2 lists triples, Keras 3 lists `keras_history` in its args. */
function inboundRefs(node: unknown, what: string): string[] {
  if (Array.isArray(node)) return node.map((t, i) => refOf(t, `${what}[${i}]`));
  const refs: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) {
      const cfg = isObject(v.config) ? v.config : undefined;
      if (v.class_name === '__keras_tensor__' && cfg) refs.push(refOf(cfg.keras_history, what));
      else if (v.args !== undefined) visit(v.args);
    }
  };
  visit(asObject(node, what));
  return refs;
}

function refOf(v: unknown, what: string): string {
  const t = asArray(v, what);
  return tensorKey(asString(t[0], `${what}: layer name`), asNumber(t[1] ?? 0, `${what}: node index`), asNumber(t[2] ?? 0, `${what}: tensor index`));
}

/** Calls in dependency order (config order is usually one already, and then is kept). */
function sortCalls(calls: KerasCall[], inputs: ReadonlySet<string>): KerasCall[] {
  const byOutput = new Map(calls.map((c) => [c.output, c]));
  const done = new Set<KerasCall>();
  const order: KerasCall[] = [];
  const visiting = new Set<KerasCall>();
  const stack: Array<{ call: KerasCall; next: number }> = [];
  for (const root of calls) {
    if (done.has(root)) continue;
    stack.push({ call: root, next: 0 });
    visiting.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.call.inputs.length) {
        const ref = top.call.inputs[top.next++]!;
        if (inputs.has(ref)) continue;
        const dep = byOutput.get(ref);
        if (!dep) throw new ModelFormatError(`layer '${top.call.layer.name}' reads '${ref}', which no layer makes`);
        if (visiting.has(dep)) throw new ModelFormatError(`the model has a cycle through layer '${dep.layer.name}'`);
        if (!done.has(dep)) {
          visiting.add(dep);
          stack.push({ call: dep, next: 0 });
        }
      } else {
        stack.pop();
        visiting.delete(top.call);
        done.add(top.call);
        order.push(top.call);
      }
    }
  }
  return order;
}
