/**
 * The contract every GPU operator keeps (ARCHITECTURE.md, "Operators: one
 * contract, one table"), after ONNX Runtime Web's `validateInputs` then
 * `ProgramInfo`:
 * - `validate` says, before any shape is known and any buffer made, why the
 *   GPU cannot run a layer (a bitwidth, an axis, an input count, a missing
 *   feature): each problem one phrase, the caller names the layer;
 * - `plan` gives, for concrete input shapes, the tensors the layer defines and
 *   its steps: kernel variant, dispatch, uniforms and bindings by WGSL name,
 *   MACs, a label and the bits; pure, no GPU object;
 * - `golden` (integer operators) is the CPU function the kernels equal bit for bit.
 * The command-graph builder (plan-graph.ts), the session's validation, the
 * golden executor, the quantizer's choice of integer layers and the GPU test
 * harness all read the table in operators.ts and nothing else.
 */
import type { Tensor } from '../cpu/tensor.js';
import type { AdapterFacts } from '../gpu/adapter-info.js';
import type { ConvPlanOptions } from '../gpu/ops/conv.js';
import type { Im2colConv } from '../gpu/ops/im2col.js';
import type { KernelPlan } from '../gpu/ops/kernel-plan.js';
import type { BindingLimits } from '../gpu/ops/pieces.js';
import type { KernelSource, KernelVariant } from '../gpu/pipeline-cache.js';
import type { Constant, Graph } from '../ir/graph.js';
import type { Layer } from '../ir/layers.js';
import type { QParams } from '../quant/qparams.js';
import type { QLayer } from '../quant/quantized-graph.js';
import type { BoundaryFusions } from './boundary-fusion.js';
import type { Domain, TensorSpec } from './steps.js';

/** What planning reads of the adapter. */
export type PlanFacts = Pick<AdapterFacts, 'dot4I8Packed' | 'limits'>;

/** The igemm variant fields (ConvPlanOptions: dot path, tile, core, workgroup fitting), forced or left to the adapter's measured best. */
export interface PlanOptions extends ConvPlanOptions {
  /** Time the igemm variants on the adapter to choose the unforced fields (default true; false takes the planner's defaults). */
  readonly autotune?: boolean;
  /**
   * Quantize the input of a convolution with fewer than 4 input channels (the
   * network's first, typically) straight into its windows and run it as a 1x1
   * reduction (src/gpu/ops/im2col.ts), where that quantized input has no other
   * reader and the copy fits a buffer; default true.
   */
  readonly im2col?: boolean;
  /**
   * Plan as if the adapter's limits were these, by WebGPU limit name (e.g.
   * maxStorageBufferBindingSize): a smaller adapter's, to see how a model runs
   * there, or tests of folded grids and pieces. Only ever tighter than the
   * adapter's own: a `max...` limit above the adapter's, or a `min...`
   * alignment below it, is ignored.
   */
  readonly limits?: Readonly<Record<string, number>>;
}

/** The facts with the limits in `limits` tightened to them (PlanOptions.limits), never loosened. */
export function withTighterLimits<F extends PlanFacts>(facts: F, limits: Readonly<Record<string, number>> | undefined): F {
  if (limits === undefined) return facts;
  const tight: Record<string, number> = { ...facts.limits };
  for (const [name, value] of Object.entries(limits)) {
    const own = facts.limits[name];
    tight[name] = own === undefined ? value : name.startsWith('min') ? Math.max(value, own) : Math.min(value, own);
  }
  return { ...facts, limits: tight };
}

/** What validation may read: the adapter, the plan options, and each tensor's parameters and rank. */
export interface ValidateContext {
  readonly facts: PlanFacts;
  readonly options: PlanOptions;
  /** Parameters of an integer tensor. */
  params(tensor: string): QParams;
  /** The rank of a tensor where the graph knows it. */
  rank(tensor: string): number | undefined;
  /** A float constant (weights of a float layer). */
  constant(name: string): Constant | undefined;
}

export interface PlanContext extends ValidateContext {
  /** `layer 'name' (op)`, for messages. */
  readonly where: string;
  readonly maxWorkgroups: number;
  /**
   * The most of a tensor a step binds, and the alignment of a range's offset:
   * a layer whose tensors are larger runs in pieces where it can (pieces.ts),
   * each binding a range; elsewhere the builder refuses it, the limit named.
   */
  readonly binding: BindingLimits;
  /** Values of the symbolic dimensions (N = the batch). */
  readonly bindings: ReadonlyMap<string, number>;
  /** Cross-layer folds decided before planning (boundary-fusion.ts). */
  readonly fusions: BoundaryFusions;
  /** im2col copies a quantize step wrote, by the integer tensor's name: the convolution reading it plans over them. */
  readonly windows: Map<string, Im2colConv>;
}

/** A tensor a layer defines: its name in the layer's output domain, shape and bytes; `alias` shares input 0's words. */
export interface PlannedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly bytes: number;
  readonly alias?: true;
}

/** One dispatch; its buffer roles name graph tensors, keyed into domains by the builder. */
export interface PlannedStep {
  /** For profiles: e.g. `conv 3x3/2`, `dense`, `quantize+transpose`. */
  readonly op: string;
  readonly kernel: KernelSource<KernelVariant>;
  readonly plan: KernelPlan;
  readonly macs: number;
  /** Weight and activation bits, e.g. `w4a8`, `a8` or `f32`. */
  readonly bits: string;
}

export interface OpPlan {
  /** What the layer defines (none where an earlier step wrote its output, as a transpose folded into a quantize step). */
  readonly outputs: readonly PlannedTensor[];
  readonly steps: readonly PlannedStep[];
}

/** Build a step from a typed kernel and plan (the table holds kernels of many variant types). */
export function step<V extends KernelVariant>(op: string, kernel: KernelSource<V>, plan: KernelPlan<V>, bits: string, macs = 0): PlannedStep {
  return { op, kernel: kernel as unknown as KernelSource<KernelVariant>, plan, macs, bits };
}

export interface GoldenContext {
  params(tensor: string): QParams;
  readonly bindings: ReadonlyMap<string, number>;
}

/** An integer operator: one layer of a quantized graph. */
export interface IntegerOperator<L extends QLayer = QLayer> {
  /** Where its input and output tensors live: `f` float32 NCHW, `i` packed integer lanes. */
  readonly domains: { readonly input: Domain; readonly output: Domain };
  /** Its output has its input's parameters (pools, data movement): the cost model charges its activations to the layer that made them. */
  readonly keepsParams?: true;
  /** Whether the quantizer may give this float layer this integer form (undefined: every layer of the op). */
  accepts?(layer: Layer, graph: Graph): boolean;
  /** Every kernel the operator may plan, by its variant's `kernel` name (the test harness runs plans through these). */
  readonly kernels: Readonly<Record<string, KernelSource<never>>>;
  /** Why the GPU cannot run the layer; [] when it can. An operator without `plan` has no GPU kernel and needs none here. */
  validate(layer: L, ctx: ValidateContext): string[];
  /** Absent where only the golden model runs the layer (the session refuses it at validation). */
  readonly plan?: (layer: L, inputs: readonly TensorSpec[], ctx: PlanContext) => OpPlan;
  /** The integer function the kernels equal bit for bit; inputs in the operator's input domain. */
  golden(layer: L, inputs: readonly Tensor[], ctx: GoldenContext): Tensor;
}

/** A float32 operator: a layer of a float graph or a "float" island of a quantized one. Its reference is the CPU float executor (run-layer.ts). */
export interface FloatOperator {
  readonly kernels: Readonly<Record<string, KernelSource<never>>>;
  validate(layer: Layer, ctx: ValidateContext): string[];
  plan(layer: Layer, inputs: readonly TensorSpec[], ctx: PlanContext): OpPlan;
}
