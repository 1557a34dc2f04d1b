/**
 * Session options of every ONNX Runtime session quantgpu opens. Graph
 * optimisations on; the QDQ fusions off: they replace QuantizeLinear /
 * DequantizeLinear around float operators with integer kernels of their own
 * rounding, and the fake-quant graph is a simulation that must round as
 * written (with them, its top-1 agreement with the golden model fell from
 * 99.8% to 96.4% on fashion-mbv2 at w8a8).
 */
export const ORT_SESSION_OPTIONS = {
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  interOpNumThreads: 1,
  extra: { session: { disable_quant_qdq: '1' } },
} as const;
