import { InputError, ShapeError } from '../errors.js';
import type { TensorInfo } from './graph.js';
import { formatShape } from './shape.js';

/**
 * Checks concrete input shapes against a graph's declared ones and binds the
 * symbolic dimensions (the batch `N`, free spatial sizes) to numbers: the one
 * rule the CPU executors and the GPU planner share, so that a shape one
 * accepts the other accepts too.
 */
export function bindInputShapes(declared: readonly TensorInfo[], shapes: Readonly<Record<string, readonly number[]>>): Map<string, number> {
  const bindings = new Map<string, number>();
  for (const info of declared) {
    const shape = shapes[info.name];
    if (shape === undefined) throw new InputError(`the model needs input '${info.name}' ${formatShape(info.shape)}; given: ${Object.keys(shapes).join(', ') || 'none'}`);
    const mismatch = (detail: string): ShapeError => new ShapeError(`input '${info.name}' must have shape ${formatShape(info.shape)}, got ${formatShape(shape)}${detail}`);
    if (shape.length !== info.shape.length) throw mismatch('');
    info.shape.forEach((d, i) => {
      const got = shape[i]!;
      if (!Number.isInteger(got) || got < 0) throw mismatch(` (dimension ${i} is not a whole number)`);
      const want = typeof d === 'number' ? d : bindings.get(d);
      if (want !== undefined && want !== got) throw mismatch(` (dimension ${i})`);
      if (typeof d === 'string') bindings.set(d, got);
    });
  }
  return bindings;
}
