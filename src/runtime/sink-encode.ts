/**
 * Sinks that encode where their records are made (API 1.4, `SinkDef.encoder`). For each output of
 * a parallel segment that leaves it (`Segment.leaving`), the sinks reading it that declare an
 * encoder (and whose instances take `writeEncoded`) get their batches encoded in the worker
 * threads, at the end of the chain: what crosses to the main thread is the encoded batch (bytes
 * transferred), not the records. The records of such an output still cross when a node that is
 * not an encoding sink reads it too (`records`).
 *
 * Every other batch an encoding sink reads (from a main-thread node) is encoded in the main thread
 * by the sink runner, so the sink has one path whatever the threads.
 */
import type { EncodedBatch, SinkDef, SinkEncoder } from '../api.js';
import type { CompiledSpec } from '../graph/build.js';
import type { Segment } from './segments.js';

/** A sink fed encoded batches from a segment's output. */
export interface EncodedSink {
  /** The sink node. */
  sink: string;
  /** Plugin name and where it comes from (`built-in` or a module), for the worker to load it. */
  plugin: string;
  from: string;
  /** Its validated, defaulted config. */
  config: unknown;
}

/** One output of a segment (node and port) read by encoding sinks. */
export interface EncodedRoute {
  node: string;
  port: string;
  sinks: EncodedSink[];
  /** Some other node reads the output too: its records still cross. */
  records: boolean;
}

/** Whether a compiled node is a sink that encodes (a definition with `encoder`). */
export function encodes(spec: CompiledSpec, name: string): boolean {
  const n = spec.nodes.get(name);
  return n?.kind === 'sink' && typeof (n.plugin.def as SinkDef).encoder === 'function';
}

/** The outputs of `seg` that encoding sinks read, with those sinks. */
export function encodedRoutes(spec: CompiledSpec, seg: Segment): EncodedRoute[] {
  const routes: EncodedRoute[] = [];
  for (const node of seg.nodes) {
    for (const port of seg.leaving[node] ?? []) {
      const sinks: EncodedSink[] = [];
      let records = false;
      for (const name of spec.order) {
        const n = spec.nodes.get(name)!;
        if (!n.inputs.some((i) => i.node === node && i.port === port)) continue;
        if (encodes(spec, name)) sinks.push({ sink: name, plugin: n.plugin.def.name, from: n.plugin.from, config: n.config });
        else records = true;
      }
      if (sinks.length) routes.push({ node, port, sinks, records });
    }
  }
  return routes;
}

/** The memory of an encoded batch to transfer with it (each ArrayBuffer once). */
export function transferOfEncoded(b: EncodedBatch, into: ArrayBuffer[]): void {
  if (!b.transfer) return;
  for (const ab of b.transfer) if (ab instanceof ArrayBuffer && !into.includes(ab)) into.push(ab);
}

/** Check what an encoder returned (a third-party one may get it wrong): a clear error, not a late crash. */
export function checkEncoded(b: EncodedBatch, records: number, sink: string): EncodedBatch {
  if (!b || typeof b !== 'object' || b.count !== records) {
    throw new Error(
      `the encoder of sink '${sink}' returned ${b && typeof b === 'object' ? `count ${String(b.count)}` : String(b)} for a batch of ${records} records`,
    );
  }
  return b;
}

/** Make a sink's encoder (once per thread that encodes for it). */
export function makeEncoder(def: SinkDef, config: unknown): SinkEncoder {
  const enc = def.encoder!(config);
  if (!enc || typeof enc.encode !== 'function') throw new Error(`sink plugin '${def.name}': encoder() returned no { encode }`);
  return enc;
}
