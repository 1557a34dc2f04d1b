import type { Dim } from '../../ir/shape.js';

export interface TfjsImportOptions {
  /** Input shapes in TF's layout (`{ input_1: [1, 224, 224, 3] }`), replacing the declared ones. */
  inputShapes?: Record<string, Dim[]>;
}
