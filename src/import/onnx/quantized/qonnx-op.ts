/**
 * QONNX's integer quantizer, `Quant` (renamed `IntQuant` in newer qonnx,
 * which reads both names as one operator): the facts its reader and its
 * writer share. Semantics (qonnx docs/qonnx-custom-ops/intquant_v1.md, opset
 * 1 of its domain), with X, scale, zeropt and bitwidth its four inputs:
 *
 *   y = round(clamp(X / scale + zeropt, min, max)) - zeropt) * scale
 *
 * in float32, `round` chosen by `rounding_mode` ("ROUND" is half to even,
 * numpy.round), [min, max] the integer range of `intQuantRange`. scale and
 * zeropt are scalars or tensors of X's rank that broadcast against it
 * (per-channel weights).
 */
import type { onnx } from '../proto.js';
import type { QRange } from '../../../quant/rounding.js';

/** The domain quantgpu writes Quant in (the one qonnx names its own), at opset version 1. */
export const QONNX_DOMAIN = 'qonnx.custom_op.general';
export const QONNX_OPSET = 1;

/** The domains Quant appears in: qonnx's, FINN's (its former home) and Brevitas' exporter's. */
export const QONNX_DOMAINS: readonly string[] = [QONNX_DOMAIN, 'finn.custom_op.general', 'onnx.brevitas'];

/** The operator's two names. */
export const QUANT_OPS: readonly string[] = ['Quant', 'IntQuant'];

/** A node of QONNX's integer quantizer (by name and domain: a `Quant` of another domain is someone else's). */
export function isQonnxQuant(n: onnx.INodeProto): boolean {
  return QUANT_OPS.includes(n.opType ?? '') && QONNX_DOMAINS.includes(n.domain ?? '');
}

/**
 * The integer range [min, max] of Quant's attributes, for any bit width (a
 * bias may take 24 or 32). Signed ranges are ours (eq. 2a, 2c of
 * docs/quantization.md); QONNX's unsigned narrow range drops the top code,
 * [0, 2^b - 2], where TensorFlow's (qRange) drops the bottom one.
 */
export function intQuantRange(bits: number, signed: boolean, narrow: boolean): QRange {
  const n = narrow ? 1 : 0;
  return signed ? { lo: -(2 ** (bits - 1)) + n, hi: 2 ** (bits - 1) - 1 } : { lo: 0, hi: 2 ** bits - 1 - n };
}
