import { onnx } from './proto.js';
import { ModelFormatError } from '../../errors.js';

/** Decode and sanity-check the outer layers of an ONNX file before anything is built from it. */
export function decodeModelProto(bytes: Uint8Array): onnx.ModelProto {
  if (bytes.byteLength === 0) throw new ModelFormatError('the model file is empty');
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelFormatError(`not a readable ONNX model (protobuf: ${(e as Error).message}); is the file truncated or of another format?`);
  }
  // Random bytes sometimes decode as a protobuf of unknown fields: demand the fields every model has.
  if (!model.graph || !model.irVersion) {
    throw new ModelFormatError('not an ONNX model: no graph or IR version found (wrong file, or a TF.js/TFLite model?)');
  }
  if ((model.graph.node ?? []).length === 0) throw new ModelFormatError('the ONNX graph has no nodes');
  return model;
}

/** The default-domain opset the model was exported with. */
export function defaultOpset(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  // IR version 3 and before carry no opset_import; they are opset 1..
  return entry ? Number(entry.version) : 1;
}
