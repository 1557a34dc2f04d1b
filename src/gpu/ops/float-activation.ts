/**
 * The fused activation of a float kernel (shaders/activation_f32.wgsl): its
 * ACT override and its two uniform parameters.
 */
import type { Activation } from '../../ir/layers.js';

export interface ActivationCode {
  /** The ACT override: 0 none, 1 relu, 2 clip, 3 leakyRelu, 4 sigmoid, 5 hardSigmoid, 6 hardSwish. */
  readonly act: number;
  readonly act_a: number;
  readonly act_b: number;
}

export function activationCode(a: Activation | undefined): ActivationCode {
  if (a === undefined) return { act: 0, act_a: 0, act_b: 0 };
  switch (a.kind) {
    case 'relu':
      return { act: 1, act_a: 0, act_b: 0 };
    case 'clip':
      // Infinite bounds (a one-sided Clip) have no uniform form: the largest float32 stands in.
      return { act: 2, act_a: Math.max(a.min, -3.4028234663852886e38), act_b: Math.min(a.max, 3.4028234663852886e38) };
    case 'leakyRelu':
      return { act: 3, act_a: a.alpha, act_b: 0 };
    case 'sigmoid':
      return { act: 4, act_a: 0, act_b: 0 };
    case 'hardSigmoid':
      return { act: 5, act_a: a.alpha, act_b: a.beta };
    case 'hardSwish':
      return { act: 6, act_a: 0, act_b: 0 };
  }
}
