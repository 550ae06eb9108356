/**
 * Records that are never made: the line gate of a chain `transform → processor` fed by a line
 * source, where the processor offers a record gate (`ProcessorInstance.recordGate`, a matcher whose
 * alerts are rare: the ioc-sweep), its pass-through `out` is read by no node, and the transform
 * offers a line probe for the fields the gate reads (`lineProbe`: proxy-log). Each line of an ASCII
 * block of lines, and each message of a block of Kafka messages, is probed before its record is
 * made; when the gate says the record could emit nothing but itself on the processor's `out`,
 * nobody would see the record, so it is not made, parsed or matched: both nodes count it as received and emitted on `out`, and are told how many were
 * skipped (their metrics). Every other line — one the probe cannot read cheaply, one the gate may
 * alert on, a line the transform would reject — goes through the chain as before, so alerts and
 * rejects are those of a run without the gate (test/runtime/line-gate.test.ts).
 *
 * When the probe offers `spans` and the gate `mayEmitSpans` (API 1.10), an ASCII line is asked about
 * as places in its bytes (`LineSpans`, one object reused for every line), hashed where the gate asks:
 * no string, object or record is made for a skipped line (`keepBytes`). Kafka messages that are
 * not ASCII, and every line when either side lacks spans, are asked as objects (`keep`); the lines
 * of a block of lines that is not ASCII are all made into records (record.ts).
 * `SLUICE_LINE_SPANS=0` turns the spans off (for comparisons).
 *
 * Used where a chain runs as one copy (copy.ts: worker threads and the main thread's copy). The
 * decision is the runtime's, from the graph, so a spec asks for nothing; `SLUICE_LINE_GATE=0`
 * turns it off (for comparisons).
 */
import type { LineProbe, Origin, RecordGate } from '../api.js';
import { lineSpans } from '../line-spans.js';
import { blockOrigin, type Block, type LineSkip } from '../record.js';
import type { ChainStep } from './chain.js';

export class LineGate implements LineSkip {
  skipped = 0;
  /** The source of the current block's lines (its file, or topic and partition), as a probe is given it. */
  private origin: Origin = {};

  /** `LineSkip.keepBytes`: present when probe and gate speak spans. */
  readonly keepBytes: ((bytes: Uint8Array, from: number, to: number) => boolean) | undefined;

  constructor(
    private readonly probe: LineProbe,
    private readonly gate: RecordGate,
    private readonly head: ChainStep,
    private readonly next: ChainStep,
  ) {
    const offered = probe.spans !== undefined && gate.mayEmitSpans !== undefined;
    const sp = offered && process.env.SLUICE_LINE_SPANS !== '0' ? lineSpans(gate.paths.length) : null;
    this.keepBytes = sp === null ? undefined : (bytes, from, to) => !probe.spans!(bytes, from, to, this.origin, sp) || gate.mayEmitSpans!(bytes, sp);
  }

  /** A block's lines are about to be asked. */
  begin(block: Block): void {
    const o = this.origin;
    const same = block.kind === 'lines' ? o.file === block.file : o.topic === block.topic && o.partition === block.partition;
    if (!same) this.origin = blockOrigin(block);
  }

  keep(line: string): boolean {
    const p = this.probe.probe(line, this.origin);
    return p === undefined || this.gate.mayEmit(p);
  }

  /** Count the lines skipped since the last call as both nodes' records, and tell the plugins. */
  settle(): void {
    const n = this.skipped;
    if (n === 0) return;
    this.skipped = 0;
    this.head.counter.received(n);
    this.head.counter.emitted('out', n);
    this.next.counter.received(n);
    this.next.counter.emitted('out', n);
    this.probe.skipped?.(n);
    this.gate.skipped?.(n);
  }
}

/**
 * The line gate of a chain's first two steps, when they qualify: the head feeds the next step on
 * its `out` and nothing else reads that port (no branch, not leaving the chain); the next step's
 * `out` feeds nothing; the next step offers a record gate and the head a probe for its paths.
 */
export function lineGateOf(steps: readonly ChainStep[]): LineGate | undefined {
  if (process.env.SLUICE_LINE_GATE === '0' || steps.length < 2) return undefined;
  const head = steps[0]!;
  const next = steps[1]!;
  const reads = (s: ChainStep, port: string): boolean => s.leaving === 'all' || s.leaving.includes(port) || (s.branches ?? []).some(([p]) => p === port);
  if (head.feed !== 'out' || reads(head, 'out')) return undefined;
  if (next.feed === 'out' || reads(next, 'out')) return undefined;
  const gate = next.inst.recordGate?.();
  if (gate === undefined) return undefined;
  const probe = head.inst.lineProbe?.(gate.paths, gate.hashPaths ?? []);
  return probe === undefined ? undefined : new LineGate(probe, gate, head, next);
}
