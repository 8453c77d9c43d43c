/**
 * The ONNX messages MIGE.js writes and checks, as plain objects named like onnx-proto's (the
 * protobufjs build of onnx.proto): `I…` are the inputs of create / encode, every field
 * optional; the decoded ModelProto has its repeated fields as arrays. Integers are numbers.
 */

export interface IOperatorSetIdProto {
  domain?: string | null;
  version?: number | null;
}

export interface IStringStringEntryProto {
  key?: string | null;
  value?: string | null;
}

export interface IDimension {
  dimValue?: number | null;
  dimParam?: string | null;
  denotation?: string | null;
}

export interface ITensorShapeProto {
  dim?: IDimension[] | null;
}

export interface ITensorTypeProto {
  elemType?: number | null;
  shape?: ITensorShapeProto | null;
}

export interface ITypeProto {
  tensorType?: ITensorTypeProto | null;
  denotation?: string | null;
}

export interface IValueInfoProto {
  name?: string | null;
  type?: ITypeProto | null;
  docString?: string | null;
}

export interface ITensorProto {
  dims?: number[] | null;
  dataType?: number | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  stringData?: Uint8Array[] | null;
  int64Data?: number[] | null;
  name?: string | null;
  rawData?: Uint8Array | null;
  doubleData?: number[] | null;
  uint64Data?: number[] | null;
  docString?: string | null;
  externalData?: IStringStringEntryProto[] | null;
  dataLocation?: number | null;
}

export interface IAttributeProto {
  name?: string | null;
  f?: number | null;
  i?: number | null;
  s?: Uint8Array | null;
  t?: ITensorProto | null;
  g?: IGraphProto | null;
  floats?: number[] | null;
  ints?: number[] | null;
  strings?: Uint8Array[] | null;
  tensors?: ITensorProto[] | null;
  graphs?: IGraphProto[] | null;
  docString?: string | null;
  type?: number | null;
  refAttrName?: string | null;
}

export interface INodeProto {
  input?: string[] | null;
  output?: string[] | null;
  name?: string | null;
  opType?: string | null;
  attribute?: IAttributeProto[] | null;
  docString?: string | null;
  domain?: string | null;
}

export interface IGraphProto {
  node?: INodeProto[] | null;
  name?: string | null;
  initializer?: ITensorProto[] | null;
  docString?: string | null;
  input?: IValueInfoProto[] | null;
  output?: IValueInfoProto[] | null;
  valueInfo?: IValueInfoProto[] | null;
}

export interface IModelProto {
  irVersion?: number | null;
  producerName?: string | null;
  producerVersion?: string | null;
  domain?: string | null;
  modelVersion?: number | null;
  docString?: string | null;
  graph?: IGraphProto | null;
  opsetImport?: IOperatorSetIdProto[] | null;
  metadataProps?: IStringStringEntryProto[] | null;
}

/** A model as `create` returns it and `decode` reads it (decode sets every field). */
export interface ModelProto extends IModelProto {
  opsetImport: IOperatorSetIdProto[];
  metadataProps: IStringStringEntryProto[];
}
