/** How pixels become the model's numbers: value = (pixel * scale - mean[c]) / std[c]. */
export interface Preprocessing {
  scale: number;
  mean: number[];
  std: number[];
}

export const DEFAULT_PREPROCESSING: Preprocessing = { scale: 1 / 255, mean: [0], std: [1] };
