/**
 * Single-core throughput of the CPU float32 kernels on typical CNN layers.
 *
 *   npx tsx bench/cpu-conv.bench.ts            # table
 *   npx tsx bench/cpu-conv.bench.ts --json     # machine-readable
 *   npx tsx bench/cpu-conv.bench.ts --repeats 21 --no-naive
 *
 * Each layer: warm-up runs (so TurboFan has compiled the kernels for this
 * shape), then `repeats` timed runs; we report the median and the best.
 * GFLOP/s = 2 x the multiply-adds of the textbook definition,
 * N*M*OH*OW*(C/g)*KH*KW (taps in the padding included, as usual), divided
 * by the median time.
 */

import { cpus } from 'node:os';
import { conv2d, conv2dOutputSize, type Conv2dParams } from '../src/cpu/kernels/conv2d.js';
import { gemm } from '../src/cpu/kernels/gemm.js';

interface Args {
  json: boolean;
  repeats: number;
  naive: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, repeats: 11, naive: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') args.json = true;
    else if (a === '--no-naive') args.naive = false;
    else if (a === '--repeats' || a.startsWith('--repeats=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--repeats needs a positive integer, got ${v}`);
      args.repeats = n;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: tsx bench/cpu-conv.bench.ts [--json] [--repeats N] [--no-naive]');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return args;
}

/** Deterministic data (mulberry32) so runs are comparable. */
function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    a[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

interface Layer {
  name: string;
  flops: number;
  run: () => void;
}

function convLayer(name: string, c: number, m: number, hw: number, k: number, stride: number, group = 1): Layer {
  const pad = (k - 1) >> 1;
  const p: Conv2dParams = { strides: [stride, stride], dilations: [1, 1], pads: [pad, pad, pad, pad], group };
  const xShape = [1, c, hw, hw];
  const wShape = [m, c / group, k, k];
  const x = randomArray(c * hw * hw, 1);
  const w = randomArray(m * (c / group) * k * k, 2).map((v) => v * 0.1);
  const bias = randomArray(m, 3);
  const [oh, ow] = conv2dOutputSize(hw, hw, k, k, p);
  return {
    name,
    flops: 2 * m * oh * ow * (c / group) * k * k,
    run: () => {
      conv2d(x, xShape, w, wShape, bias, p);
    },
  };
}

function denseLayer(name: string, batch: number, inF: number, outF: number): Layer {
  const x = randomArray(batch * inF, 4);
  const w = randomArray(outF * inF, 5); // [units, K]: the ONNX Gemm transB / dense layout
  const y = new Float32Array(batch * outF);
  return {
    name,
    flops: 2 * batch * inF * outF,
    run: () => gemm(batch, outF, inF, x, 0, inF, w, 0, inF, true, y, 0, outF, false),
  };
}

/** The textbook loop, for scale: 7 nested loops, bounds test per tap. */
function naiveConv(x: Float32Array, c: number, h: number, wd: number, w: Float32Array, m: number, k: number, pad: number): Float32Array {
  const y = new Float32Array(m * h * wd);
  for (let o = 0; o < m; o++) {
    for (let oh = 0; oh < h; oh++) {
      for (let ow = 0; ow < wd; ow++) {
        let s = 0;
        for (let ci = 0; ci < c; ci++) {
          for (let kh = 0; kh < k; kh++) {
            const ih = oh - pad + kh;
            if (ih < 0 || ih >= h) continue;
            for (let kw = 0; kw < k; kw++) {
              const iw = ow - pad + kw;
              if (iw < 0 || iw >= wd) continue;
              s += x[(ci * h + ih) * wd + iw]! * w[((o * c + ci) * k + kh) * k + kw]!;
            }
          }
        }
        y[(o * h + oh) * wd + ow] = s;
      }
    }
  }
  return y;
}

interface Result {
  name: string;
  medianMs: number;
  bestMs: number;
  gflops: number;
  repeats: number;
}

function measure(layer: Layer, repeats: number, warmups: number): Result {
  for (let i = 0; i < warmups; i++) layer.run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    layer.run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  return { name: layer.name, medianMs, bestMs: times[0]!, gflops: layer.flops / (medianMs * 1e6), repeats };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const layers: Layer[] = [
    convLayer('conv 3x3 64->64 @56', 64, 64, 56, 3, 1),
    convLayer('conv 3x3 32->32 @112', 32, 32, 112, 3, 1),
    convLayer('conv 3x3/2 64->128 @56', 64, 128, 56, 3, 2),
    convLayer('conv 3x3/2 32->64 @112', 32, 64, 112, 3, 2),
    convLayer('conv 1x1 64->128 @56', 64, 128, 56, 1, 1),
    convLayer('depthwise 3x3 128 @56', 128, 128, 56, 3, 1, 128),
    denseLayer('dense 1024->1000 (batch 1)', 1, 1024, 1000),
    denseLayer('dense 1024->1000 (batch 16)', 16, 1024, 1000),
  ];
  const results = layers.map((l) => measure(l, args.repeats, 3));

  let naive: { ms: number; gflops: number; speedup: number } | undefined;
  if (args.naive) {
    const x = randomArray(64 * 56 * 56, 1);
    const w = randomArray(64 * 64 * 9, 2);
    const flops = 2 * 64 * 56 * 56 * 64 * 9;
    naiveConv(x, 64, 56, 56, w, 64, 3, 1); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      naiveConv(x, 64, 56, 56, w, 64, 3, 1);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[1]!;
    naive = { ms, gflops: flops / (ms * 1e6), speedup: ms / results[0]!.medianMs };
  }

  const machine = { cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
  if (args.json) {
    console.log(JSON.stringify({ machine, results, naive }, null, 2));
    return;
  }
  console.log(`CPU float32 kernels, one core. ${machine.cpu}, Node ${machine.node}, median of ${args.repeats} after 3 warm-ups.`);
  console.log('');
  console.log(`${'layer'.padEnd(30)} ${'median ms'.padStart(10)} ${'best ms'.padStart(9)} ${'GFLOP/s'.padStart(8)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(30)} ${r.medianMs.toFixed(2).padStart(10)} ${r.bestMs.toFixed(2).padStart(9)} ${r.gflops.toFixed(2).padStart(8)}`);
  }
  if (naive) {
    console.log('');
    console.log(`naive 7-loop conv 3x3 64->64 @56: ${naive.ms.toFixed(1)} ms, ${naive.gflops.toFixed(2)} GFLOP/s; kernels are ${naive.speedup.toFixed(1)}x faster`);
  }
}

main();
