/**
 * The quantization a file carries, whatever its form (QDQ pairs, QONNX's
 * Quant): the parameters of its run-time tensors and the integer codes of
 * its constants, by tensor name. The readers (`stripQdq`, `stripQuant`)
 * fill it; `importQuantizedOnnx` maps it onto our integer layers.
 */
import type { onnx } from '../proto.js';
import { UnsupportedOperatorError } from '../../../errors.js';

/** How a file's codes are laid out: their bit width, and QONNX's signed and narrow (eq. 2a-2c; see intQuantRange). */
export interface CodeRange {
  bits: number;
  signed: boolean;
  narrow: boolean;
}

/** The code ranges of the QDQ element types. */
export const QDQ_CODES: Readonly<Record<'uint8' | 'int8' | 'int32', CodeRange>> = {
  uint8: { bits: 8, signed: false, narrow: false },
  int8: { bits: 8, signed: true, narrow: false },
  int32: { bits: 32, signed: true, narrow: false },
};

/** The scale and zero point a file gives a run-time tensor. */
export interface FileParams {
  scale: number;
  zeroPoint: number;
  code: CodeRange;
  /** The node (QuantizeLinear, Quant) or the graph input that carries them. */
  node: string;
}

/** A constant the file stores as integer codes (behind a DequantizeLinear, or rounded by a Quant). */
export interface FileConstant {
  node: string;
  code: CodeRange;
  dims: number[];
  codes: Int32Array;
  /** One per slice along `axis`, or one for the whole tensor. */
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** The axis `scales` runs along (normalized), or undefined for one scale. */
  axis?: number;
}

export interface FileQuantization {
  params: Map<string, FileParams>;
  constants: Map<string, FileConstant>;
}

export function sameCodes(a: CodeRange, b: CodeRange): boolean {
  return a.bits === b.bits && a.signed === b.signed && a.narrow === b.narrow;
}

/** Both readers' findings as one; a tensor quantized by both forms is refused, naming both nodes. */
export function mergeQuantization(a: FileQuantization, b: FileQuantization): FileQuantization {
  for (const [t, p] of b.params) {
    const had = a.params.get(t);
    if (had) throw new UnsupportedOperatorError(p.node, 'Quant', `quantizes '${t}', which '${had.node}' quantizes too`);
  }
  return { params: new Map([...a.params, ...b.params]), constants: new Map([...a.constants, ...b.constants]) };
}

/** A node's name for errors: its own, or its type and first output. */
export function nodeName(n: onnx.INodeProto, i: number): string {
  return n.name || `${n.opType}_${n.output?.[0] ?? i}`;
}

const describeParams = (p: FileParams): string => `scale ${p.scale}, zero point ${p.zeroPoint} and ${p.code.bits}-bit ${p.code.signed ? 'signed' : 'unsigned'}${p.code.narrow ? ' narrow' : ''} codes`;

/** Records `p` for run-time tensor `t`; a second node (of operator `op`) that quantizes it otherwise is refused, naming both. */
export function recordParams(params: Map<string, FileParams>, t: string, p: FileParams, op: string): void {
  const had = params.get(t);
  if (had && (had.scale !== p.scale || had.zeroPoint !== p.zeroPoint || !sameCodes(had.code, p.code))) {
    throw new UnsupportedOperatorError(p.node, op, `quantizes '${t}' with ${describeParams(p)}, but '${had.node}' already gave it ${describeParams(had)}`);
  }
  params.set(t, p);
}
