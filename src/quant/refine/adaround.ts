/**
 * AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for
 * Post-Training Quantization"): per weight, learn whether it rounds down or
 * up so that the layer's pre-activation output on calibration data stays
 * close to the float layer's.
 *
 *   W~ = s * clip(floor(W / s) + h(V), -qmax, qmax)
 *   h(V) = clip(sigmoid(V) * (zeta - gamma) + gamma, 0, 1),  zeta = 1.1, gamma = -0.1
 *   loss = (1/N) ||W X - W~ X~||^2 + lambda * sum(1 - |2h - 1|^beta)
 *
 * X are the float layer's input columns (im2col for convolutions), X~ the
 * quantized network's, N their count. The loss is quadratic in W~, so it
 * only needs H = X~ X~^T / N and C = W X X~^T / N (`ColumnMoments`): an
 * iteration costs rows x K^2 with the exact full-data gradient and no pass
 * over the data. The rows of a layer (its output channels) are independent
 * problems that share H; the regulariser couples nothing.
 *
 * The gradients are written out by hand: the loss is one quadratic form and
 * two elementwise functions, and TF.js' CPU backend would add a dependency
 * and allocate a tensor per operation for what is a handful of loops here.
 */

import { drain } from '../../cpu/float-executor.js';
import { gemm } from '../../cpu/kernels/gemm.js';

/** zeta and gamma of the rectified sigmoid (the paper's values). */
const ZETA = 1.1;
const GAMMA = -0.1;

export interface AdaRoundOptions {
  /** Adam steps per layer (default 400). */
  iterations?: number;
  /** Adam's step size (default 0.05: a few hundred exact-gradient steps replace the paper's 10k minibatch ones). */
  learningRate?: number;
  /** Weight of the rounding regulariser (default 0.01, AIMET's). */
  regularization?: number;
  /** Fraction of the iterations without the regulariser (default 0.2). */
  warmStart?: number;
  /** beta is annealed linearly from `betaStart` to `betaEnd` after the warm start (20 and 2). */
  betaStart?: number;
  betaEnd?: number;
}

/** One group of a layer's rounding problem: its rows share H. */
export interface RoundingProblem {
  /** Float weights, rows x k, row-major. */
  weights: Float32Array | Float64Array;
  rows: number;
  k: number;
  /** Scale of each row's grid. */
  scales: ArrayLike<number>;
  /** Largest code: the grid is [-qmax, qmax]. */
  qmax: number;
  /** X~ X~^T / N, k x k, symmetric. */
  gram: Float64Array;
  /** W X X~^T / N, rows x k. */
  target: Float64Array;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** h(V): the soft rounding offset in [0, 1]. */
export function rectifiedSigmoid(v: number): number {
  return Math.min(1, Math.max(0, sigmoid(v) * (ZETA - GAMMA) + GAMMA));
}

/** V such that h(V) = f, for f strictly inside (0, 1) after a small margin (AdaRound's initialisation). */
function inverseRectifiedSigmoid(f: number): number {
  const p = Math.min(1 - 1e-6, Math.max(1e-6, (f - GAMMA) / (ZETA - GAMMA)));
  return Math.log(p / (1 - p));
}

/** The learned integer codes, rows x k: floor(W/s) + (h(V) >= 0.5), clipped to the grid. */
export function adaround(problem: RoundingProblem, options: AdaRoundOptions = {}): Int32Array {
  return drain(adaroundSteps(problem, options));
}

/**
 * `adaround` in slices: yields the fraction of the iterations done every 16
 * of them, so that a caller can let the event loop turn (a page stays
 * responsive, a progress bar redraws) during a large layer.
 */
export function* adaroundSteps(problem: RoundingProblem, options: AdaRoundOptions = {}): Generator<number, Int32Array> {
  const { weights, rows, k, scales, qmax, gram, target } = problem;
  const iterations = options.iterations ?? 400;
  const lr = options.learningRate ?? 0.05;
  const lambda = options.regularization ?? 0.01;
  const warm = Math.floor((options.warmStart ?? 0.2) * iterations);
  const betaStart = options.betaStart ?? 20;
  const betaEnd = options.betaEnd ?? 2;
  const n = rows * k;
  const floor = new Float64Array(n);
  const v = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const x = weights[r * k + i]! / scales[r]!;
      const f = Math.floor(x);
      floor[r * k + i] = f;
      v[r * k + i] = inverseRectifiedSigmoid(x - f);
    }
  }
  const m1 = new Float64Array(n);
  const m2 = new Float64Array(n);
  const wq = new Float32Array(n);
  const h = new Float64Array(n);
  const product = new Float32Array(n);
  const gram32 = Float32Array.from(gram);
  const b1 = 0.9;
  const b2 = 0.999;
  for (let t = 0; t < iterations; t++) {
    const regOn = t >= warm;
    const beta = regOn ? betaEnd + (betaStart - betaEnd) * (1 - (t - warm) / Math.max(1, iterations - warm)) : 0;
    for (let r = 0; r < rows; r++) {
      for (let i = r * k; i < (r + 1) * k; i++) {
        h[i] = rectifiedSigmoid(v[i]!);
        const code = floor[i]! + h[i]!;
        wq[i] = (code < -qmax ? -qmax : code > qmax ? qmax : code) * scales[r]!;
      }
    }
    // W~ H for every row at once, on the float executor's tiled matrix product.
    gemm(rows, k, k, wq, 0, k, gram32, 0, k, false, product, 0, k, false);
    const c1 = 1 / (1 - b1 ** (t + 1));
    const c2 = 1 / (1 - b2 ** (t + 1));
    for (let r = 0; r < rows; r++) {
      const s = scales[r]!;
      const base = r * k;
      for (let j = 0; j < k; j++) {
        const i = base + j;
        const code = floor[i]! + h[i]!;
        const hi = h[i]!;
        // A code pinned at the grid's edge, or h saturated at 0 or 1, passes no gradient to V.
        // d loss / d W~ = 2 (W~ H - C), W~ = s * codes.
        const dW = code < -qmax || code > qmax ? 0 : 2 * (product[i]! - target[i]!) * s;
        let dh = dW;
        if (regOn) {
          const u = 2 * hi - 1;
          const au = Math.abs(u);
          dh += au === 0 ? 0 : -lambda * beta * au ** (beta - 1) * Math.sign(u) * 2;
        }
        const sg = sigmoid(v[i]!);
        const g = hi <= 0 || hi >= 1 ? 0 : dh * (ZETA - GAMMA) * sg * (1 - sg);
        m1[i] = b1 * m1[i]! + (1 - b1) * g;
        m2[i] = b2 * m2[i]! + (1 - b2) * g * g;
        v[i]! -= (lr * m1[i]! * c1) / (Math.sqrt(m2[i]! * c2) + 1e-8);
      }
    }
    if ((t & 15) === 15) yield (t + 1) / iterations;
  }
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = floor[i]! + (rectifiedSigmoid(v[i]!) >= 0.5 ? 1 : 0);
    codes[i] = Math.min(qmax, Math.max(-qmax, c));
  }
  return codes;
}
