import type { Preprocessing } from '../io/image.js';

/** The JSON card beside a zoo model (same base name): what the model is and how to feed it. */
export interface ModelCard {
  name?: string;
  architecture?: string;
  dataset?: string;
  input?: { name?: string; shape?: Array<number | string>; layout?: string } & Partial<Preprocessing>;
  classes?: string[];
  floatAccuracy?: number;
  parameters?: number;
  macs?: number;
}

export function cardPreprocessing(card: ModelCard | undefined): Preprocessing | undefined {
  const i = card?.input;
  if (!i || i.scale === undefined) return undefined;
  return { scale: i.scale, mean: i.mean ?? [0], std: i.std ?? [1] };
}
