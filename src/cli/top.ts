/**
 * `sluice top`: per-node rates, totals, queue depths and busy time of a running pipeline, redrawn
 * once a second — from the address of a run started with `--metrics`/`--ui` (it reads
 * `/api/snapshot`), or in the same process with `sluice run --top`.
 *
 * On a terminal it draws on the alternate screen with the cursor hidden and gives both back when
 * it ends (q, Ctrl-C, the run ending); anywhere else (a pipe, a file) it writes plain frames, no
 * control characters, one per interval (`--once`: one).
 */
import type { Snapshot } from '../observe/monitor.js';
import { groupDigits } from '../util/digits.js';

const ESC = '\x1b[';
const ALT_ON = `${ESC}?1049h`;
const ALT_OFF = `${ESC}?1049l`;
const CURSOR_OFF = `${ESC}?25l`;
const CURSOR_ON = `${ESC}?25h`;
const HOME_CLEAR = `${ESC}H${ESC}2J`;

function rate(n: number): string {
  if (n >= 100) return groupDigits(Math.round(n));
  if (n === 0) return '0';
  return n.toFixed(1);
}

function pad(s: string, w: number, right = false): string {
  if (s.length > w) s = s.slice(0, Math.max(1, w - 1)) + '…';
  return right ? s.padStart(w) : s.padEnd(w);
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/** One frame of the view as plain text lines (no control characters), at most `width` wide. */
export function renderTop(s: Snapshot, width = 100): string[] {
  const lines: string[] = [];
  const t = s.totals;
  // A finished run: its mean rate (the last tick's says little).
  const ended = s.phase === 'done' || s.phase === 'failed';
  const inRate = ended ? (s.elapsedMs > 0 ? (t.recordsIn * 1000) / s.elapsedMs : 0) : t.inRate;
  lines.push(
    `sluice top — ${s.pipeline} · ${s.phase}${s.runs > 1 ? ` (run ${s.runs})` : ''} · ${duration(s.elapsedMs)} · in ${rate(inRate)} rec/s${ended ? ' (mean)' : ''}`,
  );
  lines.push(
    `records in ${groupDigits(t.recordsIn)} · invalid ${groupDigits(t.invalid)} · alerts ${groupDigits(t.alerts)} · written ${groupDigits(t.written)}${s.error ? ` · error: ${s.error}` : ''}`,
  );
  lines.push('');
  const cols: [string, number, boolean][] = [
    ['NODE', 12, false],
    ['KIND', 9, false],
    ['PLUGIN', 11, false],
    ['IN/s', 9, true],
    ['OUT/s', 9, true],
    ['IN', 11, true],
    ['OUT', 11, true],
    ['INVALID', 8, true],
    ['ALERTS', 7, true],
    ['QUEUE', 7, true],
    ['BUSY', 5, true],
  ];
  const row = (cells: string[]) => cells.map((c, i) => pad(c, cols[i]![1], cols[i]![2])).join(' ');
  lines.push(row(cols.map((c) => c[0])));
  for (const n of s.nodes) {
    const outTotal = Object.entries(n.out).reduce((a, [p, v]) => (p === 'invalid' || p === 'alerts' ? a : a + v), 0);
    const outRate = Object.entries(n.outRate).reduce((a, [, v]) => a + v, 0);
    const inRate = n.kind === 'source' ? 0 : n.inRate;
    lines.push(
      row([
        n.name,
        n.kind,
        n.plugin,
        n.kind === 'source' ? '-' : rate(inRate),
        n.kind === 'sink' ? '-' : rate(outRate),
        n.kind === 'source' ? '-' : groupDigits(n.in),
        n.kind === 'sink' ? '-' : groupDigits(outTotal),
        n.out.invalid !== undefined ? groupDigits(n.out.invalid) : '',
        n.out.alerts !== undefined ? groupDigits(n.out.alerts) : '',
        n.queue ? `${n.queue.batches}/${n.queue.capacity}` : '',
        n.kind === 'source' ? '' : `${Math.round(n.busy * 100)}%`,
      ]),
    );
  }
  if (s.rejects.length) {
    lines.push('');
    const top = [...s.rejects].sort((a, b) => b.count - a.count).slice(0, 6);
    lines.push('rejects: ' + top.map((r) => `${r.node} ${r.reason} ${groupDigits(r.count)}`).join(' · '));
  }
  if (s.feeds.length) {
    lines.push('feeds: ' + s.feeds.map((f) => `${f.feed} ${f.indicators ?? '?'}${f.ok === false ? ' (last refresh FAILED)' : ''}`).join(' · '));
  }
  const a = s.alerts[0];
  if (a) lines.push(`latest alert: ${a.rule}${a.indicator ? ` ${a.indicator}` : ''}${a.feed ? ` (${a.feed})` : ''}${a.origin ? ` at ${a.origin}` : ''}`);
  return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

export interface TopScreen {
  draw(s: Snapshot): void;
  /** Leave the screen as it was (a terminal's alternate screen, the cursor). */
  end(final?: Snapshot): void;
}

/**
 * A screen on `out`: a terminal redraws in place on the alternate screen; anything else gets
 * plain frames separated by a blank line. `onQuit` is called on q or Ctrl-C (terminal input).
 */
export function topScreen(out: NodeJS.WriteStream, onQuit?: () => void): TopScreen {
  const tty = !!out.isTTY;
  const stdin = process.stdin;
  let ended = false;
  let lastDrawn: Snapshot | undefined;
  const restore = () => {
    if (!tty) return;
    out.write(CURSOR_ON + ALT_OFF);
  };
  const onExit = () => restore();
  let onKey: ((b: Buffer) => void) | undefined;
  if (tty) {
    out.write(ALT_ON + CURSOR_OFF);
    process.once('exit', onExit);
    if (onQuit && stdin.isTTY) {
      stdin.setRawMode(true);
      stdin.resume();
      onKey = (b: Buffer) => {
        const k = b.toString();
        if (k === 'q' || k === 'Q' || k === '\x03' || k === '\x1b') onQuit();
      };
      stdin.on('data', onKey);
    }
  }
  return {
    draw(s) {
      if (ended) return;
      lastDrawn = s;
      const width = tty ? out.columns || 100 : 120;
      const frame = renderTop(s, width);
      if (tty) {
        const rows = out.rows || 40;
        out.write(HOME_CLEAR + frame.slice(0, rows - 2).join('\n') + `\n\n${pad('q: quit', width)}`);
      } else out.write(frame.join('\n') + '\n\n');
    },
    end(final) {
      if (ended) return;
      ended = true;
      if (tty) {
        restore();
        process.off('exit', onExit);
        if (onKey) {
          stdin.off('data', onKey);
          stdin.setRawMode(false);
          stdin.pause();
        }
      }
      // What the run looked like last stays on the normal screen (a pipe gets it unless it has it).
      if (final && tty) out.write(renderTop(final, out.columns || 100).join('\n') + '\n');
      else if (final && final !== lastDrawn) out.write(renderTop(final, 120).join('\n') + '\n');
    },
  };
}

/** `sluice top --addr ADDR`: poll the snapshot once per `intervalMs` until the run ends or q. */
export async function topRemote(base: string, opts: { intervalMs: number; once: boolean }): Promise<number> {
  const get = async (): Promise<Snapshot> => {
    const r = await fetch(`${base}/api/snapshot`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`${base}/api/snapshot answered ${r.status}`);
    return (await r.json()) as Snapshot;
  };
  let first: Snapshot;
  try {
    first = await get();
  } catch (err) {
    process.stderr.write(
      `sluice top: nothing answers at ${base} (${(err as Error).message}). Start the pipeline with 'sluice run SPEC --metrics ADDR' or '--ui ADDR'.\n`,
    );
    return 1;
  }
  if (opts.once) {
    process.stdout.write(renderTop(first, process.stdout.isTTY ? process.stdout.columns || 100 : 120).join('\n') + '\n');
    return 0;
  }
  let quit = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    quit = true;
    wake?.();
  };
  const screen = topScreen(process.stdout, stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let last = first;
  let code = 0;
  screen.draw(first);
  while (!quit) {
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, opts.intervalMs);
    });
    if (quit) break;
    try {
      last = await get();
    } catch {
      // The process went away: a finite run ended (or it was stopped). Its last frame stays.
      screen.end(last);
      process.stderr.write(`sluice top: ${base} went away (the run ended or was stopped)\n`);
      return 0;
    }
    screen.draw(last);
    if (last.phase === 'failed') code = 1;
  }
  screen.end(last);
  return code;
}
