import { ModelFormatError, ShapeError, UnsupportedOperatorError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import type { Dim } from '../../ir/shape.js';
import { GraphBuilder } from './builder.js';
import { LayerConfig } from './layers-config.js';
import type { LayerContext } from './layers-context.js';
import { LAYER_CONVERTERS } from './layers-ops.js';
import { parseKerasTopology, type KerasLayer } from './layers-topology.js';
import type { TfjsImportOptions } from './options.js';
import type { WeightTensor } from './weights.js';

/** The Keras layer classes the layers-model importer understands. */
export const SUPPORTED_KERAS_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(LAYER_CONVERTERS)];

/** Import a TF.js layers model (Keras topology) whose weights are already decoded. */
export function importLayersModel(modelTopology: unknown, weights: ReadonlyMap<string, WeightTensor>, options: TfjsImportOptions = {}): Graph {
  const topo = parseKerasTopology(modelTopology);
  const b = new GraphBuilder([...topo.inputs.map((i) => i.name), ...topo.calls.map((c) => c.layer.name)]);
  const ctx: LayerContext = { b, weight: (layer, name, rank) => findWeight(weights, layer, name, rank) };
  const tensors = new Map<string, string>();

  for (const input of topo.inputs) {
    const shape = options.inputShapes?.[input.name] ?? input.batchShape.map((d, i): Dim => (d === null ? (i === 0 ? 'N' : `${input.name}_d${i}`) : d));
    tensors.set(input.output, b.addInput(input.name, shape));
  }
  for (const name of Object.keys(options.inputShapes ?? {})) {
    if (!topo.inputs.some((i) => i.name === name)) throw new ShapeError(`inputShapes names '${name}', which is not an input of the model (inputs: ${topo.inputs.map((i) => i.name).join(', ')})`);
  }

  for (const call of topo.calls) {
    const { layer } = call;
    const convert = LAYER_CONVERTERS[layer.className];
    if (!convert) throw new UnsupportedOperatorError(layer.name, layer.className);
    const inputs = call.inputs.map((ref) => {
      const t = tensors.get(ref);
      if (!t) throw new ModelFormatError(`layer '${layer.name}' reads '${ref}', which is not defined before it`);
      return t;
    });
    const out = call.index === 0 ? layer.name : `${layer.name}_${call.index}`;
    tensors.set(call.output, convert(ctx, new LayerConfig(layer), inputs, out));
  }

  const outputs = topo.outputs.map((ref) => {
    const ir = tensors.get(ref);
    if (!ir) throw new ModelFormatError(`model output '${ref}' is not made by any layer`);
    const [layerName, node] = ref.split(':');
    return { name: node === '0' ? layerName! : ref.replace(/:0$/, ''), ir };
  });
  return b.finish(topo.name, outputs);
}

/**
 * A layer's weight `<layer>/<name>`. Converters that nest the model under a
 * scope write `<scope>/<layer>/<name>`; TF.js matches those by the suffix too.
 */
function findWeight(weights: ReadonlyMap<string, WeightTensor>, layer: KerasLayer, name: string, rank?: number): WeightTensor {
  const key = `${layer.name}/${name}`;
  let w = weights.get(key);
  if (!w) {
    const matches = [...weights.keys()].filter((k) => k.endsWith(`/${key}`));
    if (matches.length === 1) w = weights.get(matches[0]!);
  }
  if (!w) throw new ModelFormatError(`layer '${layer.name}' (${layer.className}): the weights manifest has no weight '${key}'`);
  if (rank !== undefined && w.shape.length !== rank) throw new ModelFormatError(`weight '${key}' has shape [${w.shape.join(',')}], expected rank ${rank}`);
  return w;
}
