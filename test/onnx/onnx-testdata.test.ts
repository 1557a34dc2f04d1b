import { describe, expect, it } from 'vitest';
import { runGraph } from '../../src/cpu/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { simplify } from '../../src/ir/simplify.js';
import { SHAPE_ARITHMETIC_OPS, SUPPORTED_ONNX_OPS } from '../../src/import/onnx/import-onnx.js';
import { allClose, classify, listCases, requireTestdata, type Classified, type TestCase } from '../helpers/onnx-testdata.js';

/**
 * Every case of ONNX's own test data whose operators quantgpu reads is
 * imported, run on the CPU float executor (raw and simplified) and compared
 * with the expected outputs. A case with an operator the importer does not
 * claim (SUPPORTED_ONNX_OPS) is counted as skipped, with the operator, in the
 * printed report. A case whose operators are all claimed must run, unless it
 * is in NOT_RUN below with the reason it does not; and an entry of NOT_RUN
 * that runs now, or names no case, fails too, so the list cannot go stale.
 */
requireTestdata();

const NON_FLOAT = 'non-float output';
const STRINGS = 'test data: tensor data type STRING is not supported';
const RESIZE_SCALES_INPUT = 'operator Resize needs constant scales';
const inputType = (type: string): string => `operator graph input of type ${type} is not supported (float32 inputs only; freeze others with constantInputs)`;
const twoD = (op: string, detail: string): string => `operator ${op} is supported in 2-D only (${detail})`;
const training = (op: string): string => `operator ${op} in training mode is not supported`;
const resizeMode = (mode: string): string => `operator Resize mode '${mode}' is not supported (nearest only)`;
const onDataTensors = (op: string): string => `operator ${op} is not supported`;

/**
 * Cases of claimed operators that do not run, by id, each with the reason classify() gives
 * (which must match: a case that stops for another reason fails), grouped by why; each line's
 * comment gives the case's graph inputs and outputs with their element types.
 */
const NOT_RUN: Readonly<Record<string, string>> = {
  // The float executor's tensors are float32: an integer, boolean or bfloat16 output has nothing to compare with.
  'node/test_add_uint8': NON_FLOAT, // in x:UINT8,y:UINT8; out sum:UINT8
  'node/test_cast_FLOAT_to_BFLOAT16': NON_FLOAT, // in input:FLOAT; out output:BFLOAT16
  'node/test_castlike_FLOAT_to_BFLOAT16_expanded': NON_FLOAT, // in input:FLOAT,like:BFLOAT16; out output:BFLOAT16
  'node/test_clip_default_int8_inbounds': NON_FLOAT, // in x:INT8; out y:INT8
  'node/test_clip_default_int8_max': NON_FLOAT, // in x:INT8,max:INT8; out y:INT8
  'node/test_clip_default_int8_min': NON_FLOAT, // in x:INT8,min:INT8; out y:INT8
  'node/test_constantofshape_int_shape_zero': NON_FLOAT, // in x:INT64; out y:INT32
  'node/test_constantofshape_int_zeros': NON_FLOAT, // in x:INT64; out y:INT32
  'node/test_div_uint8': NON_FLOAT, // in x:UINT8,y:UINT8; out z:UINT8
  'node/test_dropout_default_mask': NON_FLOAT, // in x:FLOAT; out y:FLOAT,z:BOOL
  'node/test_dropout_default_mask_ratio': NON_FLOAT, // in x:FLOAT,r:FLOAT; out y:FLOAT,z:BOOL
  'node/test_edge_pad': NON_FLOAT, // in x:INT32,pads:INT64; out y:INT32
  'node/test_maxpool_2d_uint8': NON_FLOAT, // in x:UINT8; out y:UINT8
  'node/test_maxpool_with_argmax_2d_precomputed_pads': NON_FLOAT, // in x:FLOAT; out y:FLOAT,z:INT64
  'node/test_maxpool_with_argmax_2d_precomputed_strides': NON_FLOAT, // in x:FLOAT; out y:FLOAT,z:INT64
  'node/test_mul_uint8': NON_FLOAT, // in x:UINT8,y:UINT8; out z:UINT8
  'node/test_reflect_pad': NON_FLOAT, // in x:INT32,pads:INT64; out y:INT32
  'node/test_shape': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_clip_end': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_clip_start': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_end_1': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_end_negative_1': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_example': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_start_1': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_start_1_end_2': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_start_1_end_negative_1': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_shape_start_negative_1': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_size': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_size_example': NON_FLOAT, // in x:FLOAT; out y:INT64
  'node/test_sub_uint8': NON_FLOAT, // in x:UINT8,y:UINT8; out z:UINT8
  'node/test_training_dropout_default_mask': NON_FLOAT, // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT,z:BOOL
  'node/test_training_dropout_mask': NON_FLOAT, // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT,z:BOOL
  'node/test_training_dropout_zero_ratio_mask': NON_FLOAT, // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT,z:BOOL
  'pytorch-operator/test_operator_non_float_params': NON_FLOAT, // in 0:INT64,1:INT64; out 3:INT64
  // Graph inputs are float32; inputs of other float types are not converted (and, not being integer, not frozen).
  'node/test_cast_BFLOAT16_to_FLOAT': inputType('BFLOAT16'), // in input:BFLOAT16; out output:FLOAT
  'node/test_cast_DOUBLE_to_FLOAT': inputType('DOUBLE'), // in input:DOUBLE; out output:FLOAT
  'node/test_cast_DOUBLE_to_FLOAT16': inputType('DOUBLE'), // in input:DOUBLE; out output:FLOAT16
  'node/test_cast_FLOAT16_to_DOUBLE': inputType('FLOAT16'), // in input:FLOAT16; out output:DOUBLE
  'node/test_cast_FLOAT16_to_FLOAT': inputType('FLOAT16'), // in input:FLOAT16; out output:FLOAT
  'node/test_castlike_BFLOAT16_to_FLOAT_expanded': inputType('BFLOAT16'), // in input:BFLOAT16,like:FLOAT; out output:FLOAT
  'node/test_castlike_DOUBLE_to_FLOAT16_expanded': inputType('DOUBLE'), // in input:DOUBLE,like:FLOAT16; out output:FLOAT16
  'node/test_castlike_DOUBLE_to_FLOAT_expanded': inputType('DOUBLE'), // in input:DOUBLE,like:FLOAT; out output:FLOAT
  'node/test_castlike_FLOAT16_to_DOUBLE_expanded': inputType('FLOAT16'), // in input:FLOAT16,like:DOUBLE; out output:DOUBLE
  'node/test_castlike_FLOAT16_to_FLOAT_expanded': inputType('FLOAT16'), // in input:FLOAT16,like:FLOAT; out output:FLOAT
  'node/test_castlike_FLOAT_to_DOUBLE_expanded': inputType('DOUBLE'), // in input:FLOAT,like:DOUBLE; out output:DOUBLE
  'node/test_castlike_FLOAT_to_FLOAT16_expanded': inputType('FLOAT16'), // in input:FLOAT,like:FLOAT16; out output:FLOAT16
  'pytorch-operator/test_operator_add_broadcast': inputType('DOUBLE'), // in 0:DOUBLE,1:DOUBLE; out 2:DOUBLE
  'pytorch-operator/test_operator_add_size1_broadcast': inputType('DOUBLE'), // in 0:DOUBLE,1:DOUBLE; out 2:DOUBLE
  'pytorch-operator/test_operator_add_size1_right_broadcast': inputType('DOUBLE'), // in 0:DOUBLE,1:DOUBLE; out 2:DOUBLE
  'pytorch-operator/test_operator_add_size1_singleton_broadcast': inputType('DOUBLE'), // in 0:DOUBLE,1:DOUBLE; out 2:DOUBLE
  'pytorch-operator/test_operator_addconstant': inputType('DOUBLE'), // in 0:DOUBLE; out 2:DOUBLE
  // Strings are no tensor type of the IR, and the data files hold them.
  'node/test_cast_FLOAT_to_STRING': STRINGS, // in input:FLOAT; out output:STRING
  'node/test_cast_STRING_to_FLOAT': STRINGS, // in input:STRING; out output:FLOAT
  'node/test_castlike_FLOAT_to_STRING_expanded': STRINGS, // in input:FLOAT,like:STRING; out output:STRING
  'node/test_castlike_STRING_to_FLOAT_expanded': STRINGS, // in input:STRING,like:FLOAT; out output:FLOAT
  // The IR's windows are 2-D NCHW: 1-D and 3-D convolutions and pools have no layer.
  'node/test_averagepool_1d_default': twoD('AveragePool', 'this one has a 1-D kernel'), // in x:FLOAT; out y:FLOAT
  'node/test_averagepool_3d_default': twoD('AveragePool', 'this one has a 3-D kernel'), // in x:FLOAT; out y:FLOAT
  'node/test_convtranspose_1d': twoD('ConvTranspose', 'weight of rank 3'), // in X:FLOAT,W:FLOAT; out Y:FLOAT
  'node/test_convtranspose_3d': twoD('ConvTranspose', 'weight of rank 5'), // in X:FLOAT,W:FLOAT; out Y:FLOAT
  'node/test_maxpool_1d_default': twoD('MaxPool', 'this one has a 1-D kernel'), // in x:FLOAT; out y:FLOAT
  'node/test_maxpool_3d_default': twoD('MaxPool', 'this one has a 3-D kernel'), // in x:FLOAT; out y:FLOAT
  'pytorch-converted/test_AvgPool3d': twoD('AveragePool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_AvgPool3d_stride': twoD('AveragePool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_AvgPool3d_stride1_pad0_gpu_input': twoD('AveragePool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_Conv1d': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_dilated': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_groups': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_pad1': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_pad1size1': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_pad2': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_pad2size1': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv1d_stride': twoD('Conv', 'weight of rank 3'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d_dilated': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d_dilated_strided': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d_groups': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d_no_bias': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT; out 2:FLOAT
  'pytorch-converted/test_Conv3d_stride': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_Conv3d_stride_padding': twoD('Conv', 'weight of rank 5'), // in 0:FLOAT,1:FLOAT,2:FLOAT; out 3:FLOAT
  'pytorch-converted/test_MaxPool1d': twoD('MaxPool', 'this one has a 1-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_MaxPool1d_stride': twoD('MaxPool', 'this one has a 1-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_MaxPool1d_stride_padding_dilation': twoD('MaxPool', 'this one has a 1-D kernel'), // in X:FLOAT; out Y:FLOAT
  'pytorch-converted/test_MaxPool3d': twoD('MaxPool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_MaxPool3d_stride': twoD('MaxPool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-converted/test_MaxPool3d_stride_padding': twoD('MaxPool', 'this one has a 3-D kernel'), // in 0:FLOAT; out 1:FLOAT
  'pytorch-operator/test_operator_maxpool': twoD('MaxPool', 'this one has a 1-D kernel'), // in 0:FLOAT; out 1:FLOAT
  // Inference only: training-mode BatchNormalization and Dropout (random masks, running statistics) have no layer.
  'node/test_batchnorm_epsilon_training_mode': training('BatchNormalization'), // in x:FLOAT,s:FLOAT,bias:FLOAT,mean:FLOAT,var:FLOAT; out y:FLOAT,output_mean:FLOAT,output_var:FLOAT
  'node/test_batchnorm_example_training_mode': training('BatchNormalization'), // in x:FLOAT,s:FLOAT,bias:FLOAT,mean:FLOAT,var:FLOAT; out y:FLOAT,output_mean:FLOAT,output_var:FLOAT
  'node/test_training_dropout': training('Dropout'), // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT
  'node/test_training_dropout_default': training('Dropout'), // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT
  'node/test_training_dropout_zero_ratio': training('Dropout'), // in x:FLOAT,r:FLOAT,t:BOOL; out y:FLOAT
  // Resize is nearest-neighbour only.
  'node/test_resize_downsample_scales_cubic': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_downsample_scales_cubic_A_n0p5_exclude_outside': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_downsample_scales_cubic_align_corners': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_downsample_scales_linear': resizeMode('linear'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_downsample_scales_linear_align_corners': resizeMode('linear'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_downsample_sizes_cubic': resizeMode('cubic'), // in X:FLOAT,sizes:INT64; out Y:FLOAT
  'node/test_resize_downsample_sizes_linear_pytorch_half_pixel': resizeMode('linear'), // in X:FLOAT,sizes:INT64; out Y:FLOAT
  'node/test_resize_tf_crop_and_resize': resizeMode('linear'), // in X:FLOAT,roi:FLOAT,sizes:INT64; out Y:FLOAT
  'node/test_resize_upsample_scales_cubic': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_cubic_A_n0p5_exclude_outside': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_cubic_align_corners': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_cubic_asymmetric': resizeMode('cubic'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_linear': resizeMode('linear'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_linear_align_corners': resizeMode('linear'), // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_sizes_cubic': resizeMode('cubic'), // in X:FLOAT,sizes:INT64; out Y:FLOAT
  // These cases feed Resize's scales as a float graph input, which is not frozen (only integer and scalar inputs are), and Resize needs them constant.
  'node/test_resize_downsample_scales_nearest': RESIZE_SCALES_INPUT, // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  'node/test_resize_upsample_scales_nearest': RESIZE_SCALES_INPUT, // in X:FLOAT,scales:FLOAT; out Y:FLOAT
  // Gather and Slice fold as shape arithmetic on constants only; on a data tensor they have no layer.
  'node/test_gather_0': onDataTensors('Gather'), // in data:FLOAT,indices:INT64; out y:FLOAT
  'node/test_gather_1': onDataTensors('Gather'), // in data:FLOAT,indices:INT64; out y:FLOAT
  'node/test_gather_2d_indices': onDataTensors('Gather'), // in data:FLOAT,indices:INT64; out y:FLOAT
  'node/test_gather_negative_indices': onDataTensors('Gather'), // in data:FLOAT,indices:INT64; out y:FLOAT
  'node/test_slice': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64,steps:INT64; out y:FLOAT
  'node/test_slice_default_axes': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64; out y:FLOAT
  'node/test_slice_default_steps': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64; out y:FLOAT
  'node/test_slice_end_out_of_bounds': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64,steps:INT64; out y:FLOAT
  'node/test_slice_neg': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64,steps:INT64; out y:FLOAT
  'node/test_slice_neg_steps': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64,steps:INT64; out y:FLOAT
  'node/test_slice_negative_axes': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64; out y:FLOAT
  'node/test_slice_start_out_of_bounds': onDataTensors('Slice'), // in x:FLOAT,starts:INT64,ends:INT64,axes:INT64,steps:INT64; out y:FLOAT
  'pytorch-operator/test_operator_index': onDataTensors('Slice'), // in 0:FLOAT; out 2:FLOAT
  // Optionals and sequences are no IR value: the IR's values are tensors.
  'node/test_identity_opt': 'graph values that are not tensors (opt_in: optionalType, opt_out: optionalType)',
  'node/test_identity_sequence': 'graph values that are not tensors (x: sequenceType, y: sequenceType)',
};

function runCase(tc: TestCase, graph: Graph): void {
  for (const set of tc.sets) {
    const inputs: Record<string, { shape: number[]; data: Float32Array }> = {};
    tc.inputs.forEach((inp, i) => {
      const t = set.inputs[i]!;
      const fed = graph.inputs.some((g) => g.name === inp.name);
      if (fed && t.kind === 'float') inputs[inp.name] = { shape: t.dims, data: t.data };
    });
    const outs = runGraph(graph, inputs);
    expect(Object.keys(inputs).sort(), `${tc.id}: every graph input fed`).toEqual(graph.inputs.map((i) => i.name).sort());
    tc.outputs.forEach((name, i) => {
      const got = outs[name]!;
      const want = set.outputs[i]!;
      expect(got.shape, `${tc.id} output '${name}' shape`).toEqual(want.dims);
      const cmp = allClose(got.data, want.data as Float32Array);
      expect(cmp.ok, `${tc.id} output '${name}': ${cmp.worst}`).toBe(true);
    });
  }
}

for (const folder of ['node', 'pytorch-converted', 'pytorch-operator', 'simple']) {
  describe(`ONNX test data: ${folder}`, () => {
    const classified = listCases(folder).map(classify);
    const runnable = classified.filter((c): c is { tc: TestCase; graph: Graph } => 'tc' in c);
    const skipped = classified.filter((c): c is Exclude<Classified, { tc: TestCase }> => 'skip' in c);

    it.each(runnable.map((c) => [c.tc.id, c] as const))('%s', (_id, c) => {
      runCase(c.tc, c.graph);
      // Simplification passes must keep the outputs.
      runCase(c.tc, simplify(c.graph));
    });

    it('runs every case whose operators are all claimed, except those in NOT_RUN, which stop for the reason given there', () => {
      const unaccounted = skipped
        .filter((c) => c.unclaimed.length === 0 && NOT_RUN[c.id] !== c.skip)
        .map((c) => `${c.id}: ${c.skip}${NOT_RUN[c.id] !== undefined ? ` (NOT_RUN says: ${NOT_RUN[c.id]})` : ' (not in NOT_RUN)'}`);
      expect(unaccounted).toEqual([]);
    });

    it('reports what ran and what was skipped', () => {
      const reasons = new Map<string, number>();
      for (const s of skipped) reasons.set(s.skip, (reasons.get(s.skip) ?? 0) + 1);
      const top = [...reasons].sort((a, b) => b[1] - a[1]);
      console.log(
        `[onnx-testdata ${folder}] cases: ${classified.length}, run: ${runnable.length}, skipped: ${skipped.length}\n` +
          top.map(([r, n]) => `  ${String(n).padStart(4)}  ${r}`).join('\n'),
      );
      // pytorch-operator and simple hold few graphs of our operators; the other two must run.
      if (folder === 'node' || folder === 'pytorch-converted') expect(runnable.length).toBeGreaterThan(0);
    });
  });
}

describe('ONNX test data: the NOT_RUN list', () => {
  it('names only cases that exist, are of claimed operators and still do not run', () => {
    const folders = new Set(['node', 'pytorch-converted', 'pytorch-operator', 'simple']);
    const stale = Object.keys(NOT_RUN).flatMap((id) => {
      const folder = id.split('/')[0]!;
      if (!folders.has(folder) || !listCases(folder).includes(id)) return [`${id}: no such case`];
      const c = classify(id);
      if ('tc' in c) return [`${id}: runs now; remove it from NOT_RUN`];
      if (c.unclaimed.length > 0) return [`${id}: has unclaimed operators (${c.unclaimed.join(', ')}); it is skipped without NOT_RUN`];
      return [];
    });
    expect(stale).toEqual([]);
  });
});

describe('ONNX test data: coverage of the operators we claim', () => {
  it('every supported layer operator has a runnable case', () => {
    const ran = new Set(
      ['node', 'pytorch-converted'].flatMap((f) => listCases(f).map(classify).flatMap((c) => ('tc' in c ? c.tc.opTypes : []))),
    );
    // Shape arithmetic (Shape, Gather, Slice, ...) folds at import and yields integers, which
    // the node cases cannot compare as float outputs; test/ir/simplify.test.ts and the zoo cover it.
    const missing = SUPPORTED_ONNX_OPS.filter((op) => !SHAPE_ARITHMETIC_OPS.includes(op) && !ran.has(op));
    expect(missing).toEqual([]);
  });
});
