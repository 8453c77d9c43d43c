/**
 * The `onnx` namespace the graph builder and checker use, for exactly the messages they need
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto with external data entries,
 * ValueInfoProto / TypeProto, OperatorSetIdProto, StringStringEntryProto): field numbers from
 * onnx.proto, encoded by protobuf-wire.ts. It replaces onnx-proto and its 22 MB of protobufjs; a
 * test checks its bytes against onnx-proto's.
 */
import { decodeMessage, encodeMessage, type MessageSchema } from './protobuf-wire.js';
import type { IModelProto, ModelProto } from './proto-types.js';

export type * as OnnxNs from './proto-types.js';

const entry: MessageSchema = { name: 'StringStringEntryProto', fields: [{ id: 1, name: 'key', kind: 'string' }, { id: 2, name: 'value', kind: 'string' }] };
const opsetId: MessageSchema = { name: 'OperatorSetIdProto', fields: [{ id: 1, name: 'domain', kind: 'string' }, { id: 2, name: 'version', kind: 'int64' }] };
const dimension: MessageSchema = {
  name: 'TensorShapeProto.Dimension',
  fields: [{ id: 1, name: 'dimValue', kind: 'int64', oneof: true }, { id: 2, name: 'dimParam', kind: 'string', oneof: true }, { id: 3, name: 'denotation', kind: 'string' }],
};
const shape: MessageSchema = { name: 'TensorShapeProto', fields: [{ id: 1, name: 'dim', kind: 'message', repeated: true, message: () => dimension }] };
const tensorType: MessageSchema = { name: 'TypeProto.Tensor', fields: [{ id: 1, name: 'elemType', kind: 'int32' }, { id: 2, name: 'shape', kind: 'message', message: () => shape }] };
const typeProto: MessageSchema = { name: 'TypeProto', fields: [{ id: 1, name: 'tensorType', kind: 'message', message: () => tensorType, oneof: true }, { id: 6, name: 'denotation', kind: 'string' }] };
const valueInfo: MessageSchema = {
  name: 'ValueInfoProto',
  fields: [{ id: 1, name: 'name', kind: 'string' }, { id: 2, name: 'type', kind: 'message', message: () => typeProto }, { id: 3, name: 'docString', kind: 'string' }],
};
const tensor: MessageSchema = {
  name: 'TensorProto',
  fields: [
    { id: 1, name: 'dims', kind: 'int64', repeated: true },
    { id: 2, name: 'dataType', kind: 'int32' },
    { id: 4, name: 'floatData', kind: 'float', repeated: true },
    { id: 5, name: 'int32Data', kind: 'int32', repeated: true },
    { id: 6, name: 'stringData', kind: 'bytes', repeated: true },
    { id: 7, name: 'int64Data', kind: 'int64', repeated: true },
    { id: 8, name: 'name', kind: 'string' },
    { id: 9, name: 'rawData', kind: 'bytes' },
    // double_data (10) and uint64_data (11) are not written by MIGE.js; decoding skips them.
    { id: 12, name: 'docString', kind: 'string' },
    { id: 13, name: 'externalData', kind: 'message', repeated: true, message: () => entry },
    { id: 14, name: 'dataLocation', kind: 'int32' },
  ],
};
const attribute: MessageSchema = {
  name: 'AttributeProto',
  fields: [
    { id: 1, name: 'name', kind: 'string' },
    { id: 2, name: 'f', kind: 'float' },
    { id: 3, name: 'i', kind: 'int64' },
    { id: 4, name: 's', kind: 'bytes' },
    { id: 5, name: 't', kind: 'message', message: () => tensor },
    { id: 6, name: 'g', kind: 'message', message: () => graph },
    { id: 7, name: 'floats', kind: 'float', repeated: true },
    { id: 8, name: 'ints', kind: 'int64', repeated: true },
    { id: 9, name: 'strings', kind: 'bytes', repeated: true },
    { id: 10, name: 'tensors', kind: 'message', repeated: true, message: () => tensor },
    { id: 11, name: 'graphs', kind: 'message', repeated: true, message: () => graph },
    { id: 13, name: 'docString', kind: 'string' },
    { id: 20, name: 'type', kind: 'int32' },
    { id: 21, name: 'refAttrName', kind: 'string' },
  ],
};
const node: MessageSchema = {
  name: 'NodeProto',
  fields: [
    { id: 1, name: 'input', kind: 'string', repeated: true },
    { id: 2, name: 'output', kind: 'string', repeated: true },
    { id: 3, name: 'name', kind: 'string' },
    { id: 4, name: 'opType', kind: 'string' },
    { id: 5, name: 'attribute', kind: 'message', repeated: true, message: () => attribute },
    { id: 6, name: 'docString', kind: 'string' },
    { id: 7, name: 'domain', kind: 'string' },
  ],
};
const graph: MessageSchema = {
  name: 'GraphProto',
  fields: [
    { id: 1, name: 'node', kind: 'message', repeated: true, message: () => node },
    { id: 2, name: 'name', kind: 'string' },
    { id: 5, name: 'initializer', kind: 'message', repeated: true, message: () => tensor },
    { id: 10, name: 'docString', kind: 'string' },
    { id: 11, name: 'input', kind: 'message', repeated: true, message: () => valueInfo },
    { id: 12, name: 'output', kind: 'message', repeated: true, message: () => valueInfo },
    { id: 13, name: 'valueInfo', kind: 'message', repeated: true, message: () => valueInfo },
  ],
};
const model: MessageSchema = {
  name: 'ModelProto',
  fields: [
    { id: 1, name: 'irVersion', kind: 'int64' },
    { id: 2, name: 'producerName', kind: 'string' },
    { id: 3, name: 'producerVersion', kind: 'string' },
    { id: 4, name: 'domain', kind: 'string' },
    { id: 5, name: 'modelVersion', kind: 'int64' },
    { id: 6, name: 'docString', kind: 'string' },
    { id: 7, name: 'graph', kind: 'message', message: () => graph },
    { id: 8, name: 'opsetImport', kind: 'message', repeated: true, message: () => opsetId },
    { id: 14, name: 'metadataProps', kind: 'message', repeated: true, message: () => entry },
  ],
};

/** onnx.proto's enums used here (TensorProto.DataType, TensorProto.DataLocation, AttributeProto.AttributeType). */
const DataType = Object.freeze({
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const);
const DataLocation = Object.freeze({ DEFAULT: 0, EXTERNAL: 1 } as const);
const AttributeType = Object.freeze({
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const);

export const onnx = Object.freeze({
  ModelProto: Object.freeze({
    /** The model as given, with its repeated top-level fields defaulted (as protobufjs' create). */
    create(props: IModelProto): ModelProto {
      return { ...props, opsetImport: props.opsetImport ?? [], metadataProps: props.metadataProps ?? [] };
    },
    /** `encode(m).finish()` gives the bytes, as with protobufjs. */
    encode(message: IModelProto): { finish(): Uint8Array } {
      const bytes = encodeMessage(model, message);
      return { finish: () => bytes };
    },
    /** Parses .onnx bytes; throws on malformed data. Byte fields are views into `bytes`. */
    decode(bytes: Uint8Array): ModelProto {
      return decodeMessage<ModelProto>(model, bytes);
    },
  }),
  TensorProto: Object.freeze({ DataType, DataLocation }),
  AttributeProto: Object.freeze({ AttributeType }),
});
