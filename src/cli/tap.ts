/**
 * `sluice tap NODE[.PORT] --addr ADDR`: print a sample of the records passing a port of a running
 * pipeline, one JSON object per line on stdout (status on stderr). The pipeline samples only while
 * a tap is attached, at most `--rate` records a second (spread over each batch), `--limit` in all;
 * without a tap it does nothing for it. Ends at the limit, when the run ends, or on Ctrl-C.
 */
import { parseRef } from '../graph/build.js';

export async function tapRemote(base: string, ref: string, opts: { rate: number; limit?: number; pretty: boolean }): Promise<number> {
  const { node, port } = parseRef(ref);
  const q = new URLSearchParams({ node, port, rate: String(opts.rate) });
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let res: Response;
  try {
    res = await fetch(`${base}/tap?${q}`, { signal: controller.signal });
  } catch (err) {
    process.stderr.write(
      `sluice tap: nothing answers at ${base} (${(err as Error).message}). Start the pipeline with 'sluice run SPEC --metrics ADDR' or '--ui ADDR'.\n`,
    );
    return 1;
  }
  if (!res.ok) {
    const body = await res.text();
    let msg = body.trim();
    try {
      msg = (JSON.parse(body) as { error?: string }).error ?? msg;
    } catch {
      /* plain text */
    }
    process.stderr.write(`sluice tap: ${msg || `${base}/tap answered ${res.status}`}\n`);
    return res.status === 400 ? 2 : 1;
  }
  process.stderr.write(
    `sluice tap: ${node}.${port} at ${base}, up to ${opts.rate}/s${opts.limit !== undefined ? `, ${opts.limit} in all` : ''} (Ctrl-C to stop)\n`,
  );
  let n = 0;
  let rest = '';
  const decoder = new TextDecoder();
  const write = (line: string) => {
    if (!line) return;
    n++;
    process.stdout.write((opts.pretty ? JSON.stringify(JSON.parse(line), null, 2) : line) + '\n');
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        write(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
    write(rest);
  } catch (err) {
    if (!controller.signal.aborted) {
      process.stderr.write(`sluice tap: the connection ended: ${(err as Error).message}\n`);
      return 1;
    }
  }
  process.stderr.write(`sluice tap: ${n} record${n === 1 ? '' : 's'}${controller.signal.aborted ? '' : ' (the run ended or the limit was reached)'}\n`);
  return 0;
}
