// The fusable activations in float32 (src/cpu/activation.ts has the same
// definitions, ONNX's). ACT picks one; its two parameters come from the
// kernel's uniforms:
//   0 none, 1 relu, 2 clip(a, b), 3 leakyRelu(alpha a), 4 sigmoid,
//   5 hardSigmoid(alpha a, beta b), 6 hardSwish.
// src/gpu/ops/float-ops.ts, ACTIVATION_CODES, numbers them on the host.

override ACT: u32 = 0u;

fn activate(x: f32, a: f32, b: f32) -> f32 {
  switch ACT {
    case 1u: { return max(x, 0.0); }
    case 2u: { return min(max(x, a), b); }
    case 3u: { return select(a * x, x, x >= 0.0); }
    case 4u: { return 1.0 / (1.0 + exp(-x)); }
    case 5u: { return clamp(a * x + b, 0.0, 1.0); }
    case 6u: { return x * clamp(x + 3.0, 0.0, 6.0) / 6.0; }
    default: { return x; }
  }
}
