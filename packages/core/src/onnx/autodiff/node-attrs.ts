import type { OnnxNs } from '../proto.js';

/** Reading the attributes of nodes this package built (plain JS numbers, never protobuf Longs). */

export type Node = OnnxNs.INodeProto;

function attr(node: Node, name: string): OnnxNs.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i === undefined || a.i === null ? fallback : Number(a.i);
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = attr(node, name);
  return a?.ints ? a.ints.map(Number) : undefined;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.f === undefined || a.f === null ? fallback : Number(a.f);
}

export function attrString(node: Node, name: string): string | undefined {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

/** The node's inputs and outputs as plain string arrays ('' marks an omitted optional input). */
export function inputsOf(node: Node): string[] {
  return [...(node.input ?? [])];
}

export function outputsOf(node: Node): string[] {
  return [...(node.output ?? [])];
}

/** A readable label for error messages: `MatMul 'MatMul_node_12'`. */
export function describeNode(node: Node): string {
  return `${node.opType ?? '?'} '${node.name ?? '?'}'`;
}
