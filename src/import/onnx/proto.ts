// onnx-proto is CommonJS; Node's ESM loader cannot see its named export, so take it off the default one.
import onnxProto from 'onnx-proto';

export import onnx = onnxProto.onnx;
