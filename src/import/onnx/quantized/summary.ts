import type { ImportedQuantized } from './import-quantized.js';

/** What `info` says of a model quantized in its file: its integer and float layers, and where its arithmetic differs from ours. */
export interface FileQuantizationSummary {
  source: 'file';
  integerLayers: number;
  /** Layers of the file's graph that run in float (between a dequantize and a quantize where integers surround them). */
  floatLayers: string[];
  /** Integer tensors and their parameters (scale, zero point, bits). */
  tensors: number;
  notes: string[];
}

export function fileQuantizationSummary(q: ImportedQuantized): FileQuantizationSummary {
  const layers = q.quantized.layers;
  return {
    source: 'file',
    integerLayers: layers.filter((l) => l.kind !== 'float' && l.kind !== 'quantize' && l.kind !== 'dequantize').length,
    floatLayers: layers.filter((l) => l.kind === 'float').map((l) => l.name),
    tensors: q.quantized.tensors.size,
    notes: q.notes,
  };
}

export function formatFileQuantization(s: FileQuantizationSummary): string {
  const lines = [
    `quantized in the file: ${s.integerLayers} integer layers with the file's scales and zero points, ${s.floatLayers.length} float layers, ${s.tensors} integer tensors (no calibration or --config needed)`,
    ...s.notes.map((n) => `  - ${n}`),
  ];
  return lines.join('\n') + '\n';
}
