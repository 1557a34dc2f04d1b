import type { Activation } from '../ir/layers.js';

/** Scalar definition of every fusable activation (ONNX semantics). */
export function activationFn(a: Activation): (x: number) => number {
  switch (a.kind) {
    case 'relu':
      return (x) => (x > 0 ? x : 0);
    case 'clip':
      return (x) => (x < a.min ? a.min : x > a.max ? a.max : x);
    case 'leakyRelu':
      return (x) => (x >= 0 ? x : a.alpha * x);
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'hardSigmoid':
      return (x) => Math.max(0, Math.min(1, a.alpha * x + a.beta));
    case 'hardSwish':
      return (x) => (x * Math.max(0, Math.min(6, x + 3))) / 6;
  }
}

/** Apply an activation in place. ReLU and clip get their own loops: they follow most layers. */
export function applyActivation(data: Float32Array, a: Activation | undefined): void {
  if (!a) return;
  const n = data.length;
  if (a.kind === 'relu') {
    for (let i = 0; i < n; i++) if (!(data[i]! > 0)) data[i] = 0;
    return;
  }
  if (a.kind === 'clip') {
    const lo = a.min;
    const hi = a.max;
    for (let i = 0; i < n; i++) {
      const x = data[i]!;
      data[i] = x < lo ? lo : x > hi ? hi : x;
    }
    return;
  }
  const f = activationFn(a);
  for (let i = 0; i < n; i++) data[i] = f(data[i]!);
}
