/** TF.js model import: layers models (Keras topology) and graph models (TensorFlow GraphDef). */
export { importTfjs, isTfjsModelJson, parseTfjsModelJson, type TfjsArtifacts, type TfjsImportOptions } from './import-tfjs.js';
export { loadTfjsFiles } from './files.js';
export { SUPPORTED_KERAS_LAYERS } from './layers-model.js';
export { SUPPORTED_TF_OPS } from './graph-model.js';
