import type { Graph } from '../graph.js';
import type { Layer } from '../layers.js';

/** Who produces and who reads each tensor; rebuilt by each pass (graphs are small). */
export class GraphIndex {
  readonly producer = new Map<string, Layer>();
  readonly readers = new Map<string, Layer[]>();
  readonly outputs: Set<string>;

  constructor(readonly graph: Graph) {
    for (const l of graph.layers) {
      for (const o of l.outputs) this.producer.set(o, l);
      for (const i of l.inputs) {
        const r = this.readers.get(i);
        if (r) r.push(l);
        else this.readers.set(i, [l]);
      }
    }
    this.outputs = new Set(graph.outputs.map((o) => o.name));
  }

  /** The single reader of a tensor that is not a graph output, if that is what it has. */
  soleReader(tensor: string): Layer | undefined {
    const r = this.readers.get(tensor);
    return r?.length === 1 && !this.outputs.has(tensor) ? r[0] : undefined;
  }

  constant(name: string | undefined): Float32Array | undefined {
    return name === undefined ? undefined : this.graph.constants.get(name)?.data;
  }

  /** A constant that holds one value (possibly broadcast), such as the 3 and 6 of HardSwish. */
  scalar(name: string | undefined): number | undefined {
    const c = this.constant(name);
    if (!c || c.length === 0 || c.some((v) => v !== c[0])) return undefined;
    return c[0];
  }
}

/** Replace the layer list, dropping constants that no layer reads any more. */
export function withLayers(graph: Graph, layers: Layer[]): Graph {
  const used = new Set(layers.flatMap((l) => l.inputs));
  const constants = new Map([...graph.constants].filter(([name]) => used.has(name)));
  return { ...graph, layers, constants };
}

/** Rename a tensor in every layer that reads it. */
export function renameReaders(layers: Layer[], from: string, to: string): Layer[] {
  return layers.map((l) => (l.inputs.includes(from) ? { ...l, inputs: l.inputs.map((i) => (i === from ? to : i)) } : l));
}
