import { gemm } from '../../cpu/kernels/gemm.js';
import { im2col, windowGeometry, type WindowGeometry } from '../../cpu/kernels/im2col.js';
import type { Tensor } from '../../cpu/tensor.js';
import { inferLayerShapes } from '../../ir/infer-shapes.js';
import type { ConvLayer, DenseLayer } from '../../ir/layers.js';
import { resolvePads2d } from '../../ir/window.js';
import { seededRandom } from '../../util/seeded-input.js';

/**
 * What AdaRound and empirical bias correction need to know of a
 * convolution's or dense layer's inputs over the calibration images, per
 * group of channels (K = input channels per group x kernel taps):
 * - `gram` = X~ X~^T / N and `cross` = X X~^T / N (K x K) over sampled columns,
 * - `meanQuant` and `meanFloat`: the mean column over every column,
 * where X are the float network's input columns (im2col for convolutions, the
 * rows of a dense layer's input) and X~ the quantized network's (dequantized).
 * The products cost K^2 per column, so at most `maxColumns` columns (spread
 * evenly over the images, positions drawn by a seeded generator) enter them;
 * the means take every column.
 */
export class ColumnMoments {
  readonly groups: number;
  readonly k: number;
  readonly gram: Float64Array[];
  readonly cross: Float64Array[];
  readonly meanQuant: Float64Array[];
  readonly meanFloat: Float64Array[];
  private sampled = 0;
  private counted = 0;
  private readonly perImage: number;
  private readonly random: () => number;
  /** Sampled columns waiting to enter the products, K x BATCH per group. */
  private readonly pendingQ: Float32Array[];
  private readonly pendingF: Float32Array[];
  private readonly product: Float32Array;
  private pending = 0;
  private readonly capacity: number;

  constructor(
    readonly layer: ConvLayer | DenseLayer,
    readonly weightShape: readonly number[],
    images: number,
    readonly maxColumns: number,
    seed = 1,
  ) {
    this.groups = layer.op === 'conv' ? layer.group : 1;
    this.k = weightShape.slice(1).reduce((a, b) => a * b, 1);
    const kk = this.k * this.k;
    const make = (size: number): Float64Array[] => Array.from({ length: this.groups }, () => new Float64Array(size));
    this.gram = make(kk);
    this.cross = make(kk);
    this.meanQuant = make(this.k);
    this.meanFloat = make(this.k);
    this.perImage = Math.max(1, Math.ceil(maxColumns / Math.max(1, images)));
    this.capacity = Math.max(BATCH, this.perImage);
    this.pendingQ = Array.from({ length: this.groups }, () => new Float32Array(this.k * this.capacity));
    this.pendingF = Array.from({ length: this.groups }, () => new Float32Array(this.k * this.capacity));
    this.product = new Float32Array(kk);
    this.random = seededRandom(seed);
  }

  /** Add one batch: the float input and the quantized network's input dequantized, same shape. */
  add(float: Tensor, quant: Tensor): void {
    if (this.layer.op === 'dense') this.addDense(float, quant);
    else this.addConv(this.layer, float, quant);
  }

  /** Finish: products and means divided by their counts. */
  finish(): this {
    this.flush();
    for (let g = 0; g < this.groups; g++) {
      for (const a of [this.gram[g]!, this.cross[g]!]) for (let i = 0; i < a.length; i++) a[i]! /= Math.max(1, this.sampled);
      for (const a of [this.meanQuant[g]!, this.meanFloat[g]!]) for (let i = 0; i < a.length; i++) a[i]! /= Math.max(1, this.counted);
    }
    return this;
  }

  private addDense(float: Tensor, quant: Tensor): void {
    const k = this.k;
    const rows = float.data.length / k;
    const take = this.choose(rows, Math.min(rows, this.perImage * (float.shape[0] ?? 1)));
    for (let r = 0; r < rows; r++) {
      const f = float.data.subarray(r * k, (r + 1) * k);
      const q = quant.data.subarray(r * k, (r + 1) * k);
      addTo(this.meanFloat[0]!, f);
      addTo(this.meanQuant[0]!, q);
      if (!take.has(r)) continue;
      if (this.pending === this.capacity) this.flush();
      this.push(0, f, q, 0, 1, this.pending++);
    }
    this.counted += rows;
  }

  private addConv(layer: ConvLayer, float: Tensor, quant: Tensor): void {
    const [n, channels, inH, inW] = float.shape as [number, number, number, number];
    const [, cg, kH, kW] = this.weightShape as [number, number, number, number];
    const [, , outH, outW] = inferLayerShapes(layer, [float.shape, [...this.weightShape]])[0] as number[] as [number, number, number, number];
    const geometry: WindowGeometry = windowGeometry(cg, inH, inW, kH, kW, { ...layer, pads: resolvePads2d(inH, inW, [kH, kW], layer) }, outH, outW);
    const plane = outH * outW;
    const k = this.k;
    const colsF = new Float32Array(k * plane);
    const colsQ = new Float32Array(k * plane);
    for (let img = 0; img < n; img++) {
      const take = this.choose(plane, Math.min(plane, this.perImage));
      if (this.pending + take.size > this.capacity) this.flush();
      for (let g = 0; g < this.groups; g++) {
        const off = (img * channels + g * cg) * inH * inW;
        im2col(float.data, off, geometry, 0, plane, colsF);
        im2col(quant.data, off, geometry, 0, plane, colsQ);
        const mf = this.meanFloat[g]!;
        const mq = this.meanQuant[g]!;
        for (let i = 0; i < k; i++) {
          let sf = 0;
          let sq = 0;
          for (let p = 0; p < plane; p++) {
            sf += colsF[i * plane + p]!;
            sq += colsQ[i * plane + p]!;
          }
          mf[i]! += sf;
          mq[i]! += sq;
        }
        let at = this.pending;
        for (const p of take) this.push(g, colsF, colsQ, p, plane, at++);
      }
      this.pending += take.size;
      this.counted += plane;
    }
  }

  /** `count` distinct indices of [0, size), drawn by the seeded generator. */
  private choose(size: number, count: number): Set<number> {
    const out = new Set<number>();
    if (count >= size) {
      for (let i = 0; i < size; i++) out.add(i);
      return out;
    }
    while (out.size < count) out.add(Math.floor(this.random() * size));
    return out;
  }

  /** Queue column `p` (stride `stride`) of group `g`'s float and quantized columns at place `at`. */
  private push(g: number, f: ArrayLike<number>, q: ArrayLike<number>, p: number, stride: number, at: number): void {
    const pf = this.pendingF[g]!;
    const pq = this.pendingQ[g]!;
    const cap = this.capacity;
    for (let i = 0; i < this.k; i++) {
      pf[i * cap + at] = f[i * stride + p]!;
      pq[i * cap + at] = q[i * stride + p]!;
    }
  }

  /** gram += Q Q^T and cross += F Q^T over the pending columns (the float executor's matrix product, summed on in float64). */
  private flush(): void {
    const c = this.pending;
    if (c === 0) return;
    const k = this.k;
    const cap = this.capacity;
    for (let g = 0; g < this.groups; g++) {
      gemm(k, k, c, this.pendingQ[g]!, 0, cap, this.pendingQ[g]!, 0, cap, true, this.product, 0, k, false);
      addTo(this.gram[g]!, this.product);
      gemm(k, k, c, this.pendingF[g]!, 0, cap, this.pendingQ[g]!, 0, cap, true, this.product, 0, k, false);
      addTo(this.cross[g]!, this.product);
    }
    this.sampled += c;
    this.pending = 0;
  }
}

/** Columns gathered before they enter the products (at least one image's). */
const BATCH = 1024;

function addTo(sum: Float64Array, v: ArrayLike<number>): void {
  for (let i = 0; i < sum.length; i++) sum[i]! += v[i]!;
}
