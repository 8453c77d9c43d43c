import { MigeInputError } from '../../errors.js';
import type { OnnxBuilder } from '../builder.js';
import type { OnnxCustomGradient } from '../graph.js';
import { describeNode, inputsOf, outputsOf, type Node } from './node-attrs.js';
import { gradientRule, NON_DIFFERENTIABLE, type RuleContext } from './rules.js';
import { inferShapes, type ValueFacts } from './shapes.js';

export interface GradientRequest {
  /** The value to differentiate (any float shape; its cotangent is `seed`, or ones). */
  loss: string;
  /** Values (usually parameter inputs) whose gradients are wanted. */
  wrt: readonly string[];
  /** The loss's cotangent (same shape as the loss); default all ones. */
  seed?: string;
}

/**
 * Reverse-mode differentiation of an ONNX graph under construction: appends to `g` the nodes
 * that compute d loss / d w for every w in `wrt`, and returns their value names. A w the loss
 * does not depend on gets no entry (as tf.variableGrads gives no gradient to an unused variable,
 * and AdamW then leaves it alone). Works on the forward graph as emitted (one rule per ONNX
 * operator, rules.ts), with static shapes: every graph input needs fixed dims.
 *
 * Gradient flows only along float values that depend on some w and lead to the loss; values
 * marked by `stopGradient` and the outputs of shape or comparison operators stop it.
 * Contributions to a value used several times are added with one Sum node.
 */
export function addGradients(g: OnnxBuilder, request: GradientRequest): Map<string, string> {
  const facts = inferShapes(g);
  const nodes = [...g.nodeList()];
  const where = `OnnxGraph ${g.name}`;
  // The forward graph ends where the first differentiation began.
  const forwardEnd = g.markForwardEnd();
  const fact = (v: string): ValueFacts => {
    const f = facts.get(v);
    if (!f) throw new MigeInputError(`no shape known for '${v}'`, where);
    return f;
  };
  if (!facts.has(request.loss)) throw new MigeInputError(`the loss '${request.loss}' is not a value of the graph`, where);

  // Forward: values that depend on some w through differentiable float operations.
  const active = new Set<string>();
  for (const w of request.wrt) {
    if (!facts.has(w)) throw new MigeInputError(`'${w}' is not a value of the graph`, where);
    active.add(w);
  }
  for (const node of nodes) {
    if (NON_DIFFERENTIABLE.has(node.opType ?? '')) continue;
    if (!inputsOf(node).some((i) => active.has(i))) continue;
    for (const o of outputsOf(node)) if (!g.isNoGradient(o) && isFloat(facts.get(o))) active.add(o);
  }
  // Backward: active values the loss depends on.
  const relevant = new Set<string>([request.loss]);
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n] as (typeof nodes)[number];
    if (!outputsOf(node).some((o) => relevant.has(o) && active.has(o))) continue;
    for (const i of inputsOf(node)) if (active.has(i)) relevant.add(i);
  }
  const wants = (v: string): boolean => active.has(v) && relevant.has(v);

  const parts = new Map<string, string[]>();
  const contribute = (v: string, grad: string): void => {
    const list = parts.get(v);
    if (list) list.push(grad);
    else parts.set(v, [grad]);
  };
  const total = (v: string): string | undefined => {
    const list = parts.get(v);
    if (!list) return undefined;
    const sum = g.sum(list);
    parts.set(v, [sum]);
    return sum;
  };
  contribute(request.loss, request.seed ?? g.expandTo(g.scalar(1), fact(request.loss).shape));

  // Custom-gradient regions: their nodes are not differentiated one by one; their last node
  // stands for the whole region, whose rule maps the output's gradient to the inputs'.
  const regionAt = new Map<number, OnnxCustomGradient>();
  const inRegion = new Set<number>();
  for (const r of g.customGradients()) {
    if (r.end <= r.start) continue;
    checkRegion(nodes, forwardEnd, r, where);
    regionAt.set(r.end - 1, r);
    for (let n = r.start; n < r.end; n++) inRegion.add(n);
  }

  const producers = new Map<string, Node>();
  const readers = new Map<string, number>();
  for (const node of nodes.slice(0, forwardEnd)) {
    for (const o of outputsOf(node)) producers.set(o, node);
    for (const i of inputsOf(node)) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  const ctx: RuleContext = {
    g, fact, wants,
    producer: (v) => producers.get(v),
    consumers: (v) => readers.get(v) ?? 0,
    contribute: (v, grad) => {
      if (!wants(v)) throw new MigeInputError(`a gradient rule contributed to '${v}', which needs no gradient`, where);
      contribute(v, grad);
    },
  };
  for (let n = nodes.length - 1; n >= 0; n--) {
    const region = regionAt.get(n);
    if (region) {
      const dy = wants(region.output) ? total(region.output) : undefined;
      if (dy === undefined) continue;
      const dIn = region.backward(dy, region.inputs, region.output);
      region.inputs.forEach((input, i) => {
        const d = dIn[i];
        if (d !== undefined && wants(input)) contribute(input, d);
      });
      continue;
    }
    if (inRegion.has(n)) continue;
    const node = nodes[n] as (typeof nodes)[number];
    const outs = outputsOf(node);
    if (!outs.some((o) => wants(o))) continue;
    const dOut = outs.map((o) => (wants(o) ? total(o) : undefined));
    if (dOut.every((d) => d === undefined)) continue;
    const rule = gradientRule(node.opType ?? '');
    if (!rule) throw new MigeInputError(`no gradient rule for ${describeNode(node)}`, where);
    const dIn = rule(node, dOut, ctx);
    inputsOf(node).forEach((input, i) => {
      const d = dIn[i];
      if (d !== undefined && wants(input)) contribute(input, d);
    });
  }
  const grads = new Map<string, string>();
  for (const w of request.wrt) {
    const d = total(w);
    if (d !== undefined) grads.set(w, d);
  }
  return grads;
}

/**
 * A region's internal values must not be read outside it by the forward graph (only its output
 * may be); backward nodes (from `forwardEnd` on) may read them.
 */
function checkRegion(nodes: readonly Node[], forwardEnd: number, r: OnnxCustomGradient, where: string): void {
  const internal = new Set<string>();
  for (let n = r.start; n < r.end; n++) for (const o of outputsOf(nodes[n] as Node)) if (o !== r.output) internal.add(o);
  for (let n = r.end; n < forwardEnd; n++) {
    const leak = inputsOf(nodes[n] as Node).find((i) => internal.has(i));
    if (leak !== undefined) throw new MigeInputError(`'${leak}', inside the custom gradient of '${r.output}', is read by ${describeNode(nodes[n] as Node)} outside it`, where);
  }
}

function isFloat(f: ValueFacts | undefined): boolean {
  return f?.type === 'float32' || f?.type === 'float16';
}
