/**
 * The `hdfs` sink and source against the real HDFS mini cluster (no mocks): exact counts read back
 * with the `hdfs` source, SIGKILL of the runner and reruns (no loss, no duplicate), HDFS stopped for
 * 20 s mid-run (backoff, then done, nothing lost, no temporary file left), a `../../etc` partition
 * value that stays inside the base directory, and the client through the NameNode's 307.
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describeWithServices, useServices, restartService, stopHdfs, hdfsUp, HDFS_URL } from './services.js';
import { runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { Hdfs, isHiddenName, type FileStatus } from '../../src/hdfs/webhdfs.js';
import { addLineKeys, parseKeyIndex } from '../../src/line-keys.js';

// The cluster test/services/ starts (SLUICE_HDFS_HTTP_PORT moves it).
const WEBHDFS_URL = `http://127.0.0.1:${process.env.SLUICE_HDFS_HTTP_PORT ?? 9870}`;
const ROOT_DIR = `/sluice-it-${randomUUID().slice(0, 8)}`;

/** Squid native lines over `span` seconds of event time (two days: three dates); every `badEvery`-th line is broken. */
function squidLines(n: number, badEvery = 0, span = 172800): string {
  const start = Date.UTC(2026, 11, 3, 22, 0, 0) / 1000;
  let s = '';
  for (let i = 1; i <= n; i++) {
    if (badEvery && i % badEvery === 0) {
      s += `this is not a squid line ${i}\n`;
      continue;
    }
    const t = start + Math.floor((i * span) / n);
    s += `${t}.${String(i % 1000).padStart(3, '0')}    ${50 + (i % 900)} 10.0.${(i >> 8) & 255}.${i & 255} TCP_MISS/200 ${1000 + i} GET http://host${i % 97}.example.test/p/${i} - HIER_DIRECT/192.0.2.${i % 250} text/html\n`;
  }
  return s;
}

async function walk(h: Hdfs, dir: string, out: Array<{ path: string; st: FileStatus }> = []): Promise<Array<{ path: string; st: FileStatus }>> {
  for (const e of (await h.list(dir)) ?? []) {
    const p = `${dir}/${e.pathSuffix}`;
    if (e.type === 'DIRECTORY') await walk(h, p, out);
    else out.push({ path: p, st: e });
  }
  return out;
}

/** Every archived record under a directory (read with the client), and the names of hidden files. */
async function archived(h: Hdfs, dir: string): Promise<{ records: any[]; hidden: string[]; files: string[] }> {
  const records: any[] = [];
  const hidden: string[] = [];
  const files: string[] = [];
  for (const f of await walk(h, dir)) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    if (isHiddenName(name)) {
      hidden.push(f.path);
      continue;
    }
    files.push(f.path);
    let buf = f.st.length ? await h.read(f.path, 0, f.st.length) : Buffer.alloc(0);
    if (f.path.endsWith('.gz')) buf = gunzipSync(buf);
    for (const line of buf.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line));
  }
  return { records, hidden, files };
}

/** Lines 1..n each exactly once among the records' origins. */
function expectEveryLineOnce(records: any[], n: number): void {
  const seen = new Uint8Array(n + 1);
  const dups: number[] = [];
  for (const r of records) {
    const line = r.origin?.line as number;
    if (seen[line]) dups.push(line);
    seen[line] = 1;
  }
  const missing: number[] = [];
  for (let i = 1; i <= n; i++) if (!seen[i]) missing.push(i);
  expect({ missing: missing.slice(0, 20), missingCount: missing.length, dups: dups.slice(0, 20), dupCount: dups.length }).toEqual({
    missing: [],
    missingCount: 0,
    dups: [],
    dupCount: 0,
  });
  expect(records.length).toBe(n);
}

function archiveSpec(input: string, base: string, opts: { batch?: number; checkpoint?: boolean; flush?: string; extra?: string } = {}): string {
  return `version: 1
name: it-archive
settings:
  flush_interval: ${opts.flush ?? '200ms'}
nodes:
  logs:
    source: file
    with: { paths: ["${input}"], batch_size: ${opts.batch ?? 500}, checkpoint: ${opts.checkpoint ?? false} }
  parse:
    transform: proxy-log
    from: logs
    with: { format: squid }
  archive:
    sink: hdfs
    from: parse
    with: { url: "${WEBHDFS_URL}", user: sluice, path: "${base}/proxy/dt=%Y-%m-%d/hour=%H/", timeout_ms: 5000${opts.extra ?? ''} }
  rejects:
    sink: hdfs
    from: [logs.invalid, parse.invalid]
    with: { url: "${WEBHDFS_URL}", user: sluice, path: "${base}/rejects/dt=%Y-%m-%d/", stream_fields: [error.node], timeout_ms: 5000 }
`;
}

describeWithServices(['hdfs'], 'hdfs sink and source on the real HDFS', () => {
  let h: Hdfs;
  let work: string;

  beforeAll(async () => {
    await useServices(['hdfs']);
    h = new Hdfs({ url: WEBHDFS_URL, user: 'sluice', timeout_ms: 10000 });
    work = tempDir('hdfs-it-');
  });

  afterAll(async () => {
    if (h && (await hdfsUp())) await h.delete(ROOT_DIR, true).catch(() => {});
  });

  it('the client goes through the NameNode 307 to the DataNode: create, ranged reads, rename over an existing file', async () => {
    const dir = `${ROOT_DIR}/client`;
    await h.mkdirs(dir);
    const body = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(''));
    await h.create(`${dir}/_tmp.a`, body);
    expect((await h.read(`${dir}/_tmp.a`, 0, body.length)).equals(body)).toBe(true);
    expect((await h.read(`${dir}/_tmp.a`, 1000, 50)).equals(body.subarray(1000, 1050))).toBe(true);
    await h.create(`${dir}/b`, Buffer.from('old\n'));
    await h.renameOverwrite(`${dir}/_tmp.a`, `${dir}/b`); // a plain rename would answer false and keep 'old'
    expect((await h.stat(`${dir}/b`))!.length).toBe(body.length);
    expect(await h.stat(`${dir}/_tmp.a`)).toBeNull();
    expect(await h.list(`${dir}/nope`)).toBeNull();
    expect(HDFS_URL).toContain('8020');
  });

  it('N records in → exactly N in HDFS (and the rejects apart), read back with the hdfs source', async () => {
    const n = 6000;
    const base = `${ROOT_DIR}/count`;
    const input = join(work, 'count.log');
    writeFileSync(input, squidLines(n, 1000));
    const spec = join(work, 'count.yaml');
    writeFileSync(spec, archiveSpec(input, base));
    const r = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', join(work, 'state-count')]);
    expect(r.code, r.stderr).toBe(0);
    const { records, hidden, files } = await archived(h, base);
    expect(hidden).toEqual([]);
    expectEveryLineOnce(records, n);
    expect(records.filter((x) => x.error?.code).length).toBe(6);
    expect(files.some((f) => f.includes('/proxy/dt=2026-12-04/hour=13/'))).toBe(true);
    expect(files.every((f) => /\/part-count\.log~[0-9a-f]{8}(~parse)?-\d+-\d+\.jsonl\.gz$/.test(f))).toBe(true);

    // Read the archive back with the hdfs source (globs, gzip by suffix) into a local file.
    const out = join(work, 'readback.jsonl');
    const back = join(work, 'readback.yaml');
    writeFileSync(
      back,
      `version: 1
name: it-readback
nodes:
  archive:
    source: hdfs
    with: { url: "${WEBHDFS_URL}", user: sluice, paths: ["${base}/proxy/dt=2026-12-*/**", "${base}/rejects/"], read_chunk_bytes: 65536 }
  out:
    sink: file
    from: archive
    with: { path: "${out}", mode: overwrite }
`,
    );
    const rb = await runCli(['run', back, '--log-level', 'warn', '--state-dir', join(work, 'state-rb')]);
    expect(rb.code, rb.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines[0].origin.file.startsWith(`hdfs://127.0.0.1${base}/`)).toBe(true);
    expectEveryLineOnce(
      lines.map((l) => JSON.parse(l.message)),
      n,
    );

    // A second run over the same input is a replay of everything: nothing is added.
    const again = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', join(work, 'state-count2')]);
    expect(again.code, again.stderr).toBe(0);
    expect((await archived(h, base)).records.length).toBe(n);
  });

  it('a replay with other batch boundaries (the checkpoint lagged the sink) skips exactly what is archived', async () => {
    const n = 6000;
    const base = `${ROOT_DIR}/replay`;
    const input = join(work, 'replay.log');
    const text = squidLines(n, 0, 6 * 3600);
    writeFileSync(input, text);
    const spec = join(work, 'replay.yaml');
    const state = join(work, 'state-replay');
    writeFileSync(spec, archiveSpec(input, base, { checkpoint: true, batch: 700 }));
    const r1 = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', state]);
    expect(r1.code, r1.stderr).toBe(0);
    // Put the source's checkpoint back to line 2500 (not a batch boundary of the first run), as
    // if the run had been killed before it saved the later ones; replay in batches of 300.
    const ckFile = join(state, 'it-archive', 'logs', 'checkpoints.json');
    const ck = JSON.parse(readFileSync(ckFile, 'utf8'));
    const entry = Object.values(ck.files)[0] as { offset: number; line: number; complete: boolean };
    let offset = 0;
    for (let i = 0; i < 2500; i++) offset = text.indexOf('\n', offset) + 1;
    Object.assign(entry, { offset, line: 2500, complete: false });
    writeFileSync(ckFile, JSON.stringify(ck));
    writeFileSync(spec, archiveSpec(input, base, { checkpoint: true, batch: 300 }));
    const summaryFile = join(work, 'replay.json');
    const r2 = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', state, '--summary-json', summaryFile]);
    expect(r2.code, r2.stderr).toBe(0);
    const archive = JSON.parse(readFileSync(summaryFile, 'utf8')).nodes.find((x: { node: string }) => x.node === 'archive');
    expect(archive.in).toBe(3500);
    expect(archive.metrics.replay_skipped).toBe(3500);
    expect(archive.metrics.files_written ?? 0).toBe(0);
    expectEveryLineOnce((await archived(h, base)).records, n);
  });

  it('CSV, rolled by records: a header in each file, names that give the range of the lines inside', async () => {
    const n = 2000;
    const base = `${ROOT_DIR}/csv`;
    const input = join(work, 'csv.log');
    writeFileSync(input, squidLines(n, 0, 3 * 3600));
    const spec = join(work, 'csv.yaml');
    writeFileSync(
      spec,
      archiveSpec(input, base, {
        batch: 2000,
        flush: '10s',
        extra: ', format: csv, gzip: false, roll_records: 150, csv: { columns: [origin.line, "@timestamp", url.original, source.ip] }',
      }),
    );
    const r = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', join(work, 'state-csv')]);
    expect(r.code, r.stderr).toBe(0);
    let total = 0;
    for (const f of await walk(h, `${base}/proxy`)) {
      const m = /-(\d+)-(\d+)\.csv$/.exec(f.path)!;
      expect(m, f.path).toBeTruthy();
      const rows = (await h.read(f.path, 0, f.st.length)).toString().split('\n').filter(Boolean);
      expect(rows[0]).toBe('origin.line,@timestamp,url.original,source.ip');
      const lines = rows.slice(1).map((row) => Number(row.split(',')[0]));
      expect(lines.length).toBeLessThanOrEqual(150);
      expect(lines[0]).toBe(Number(m[1]));
      expect(lines[lines.length - 1]).toBe(Number(m[2]));
      total += lines.length;
    }
    expect(total).toBe(n);
  });

  for (const format of ['json', 'csv'] as const) {
    it(`key_index (${format}): a sidecar beside each file whose blocks are gzip members of the lines and keys it announces`, async () => {
      const n = 700;
      const base = `${ROOT_DIR}/keys-${format}`;
      const input = join(work, `keys-${format}.log`);
      writeFileSync(input, squidLines(n, 0, 2 * 3600));
      const spec = join(work, `keys-${format}.yaml`);
      const csv = format === 'csv' ? ', format: csv, csv: { columns: [origin.line, url.original, destination.ip] }' : '';
      writeFileSync(spec, archiveSpec(input, base, { batch: 100, flush: '10s', extra: `, key_index: true, key_block_lines: 16${csv}` }));
      const r = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', join(work, `state-keys-${format}`)]);
      expect(r.code, r.stderr).toBe(0);
      const files = await walk(h, `${base}/proxy`);
      const data = files.filter((f) => !isHiddenName(f.path.slice(f.path.lastIndexOf('/') + 1)));
      expect(data.length).toBeGreaterThanOrEqual(2); // two hours
      let records = 0;
      for (const f of data) {
        const slash = f.path.lastIndexOf('/');
        const side = files.find((x) => x.path === `${f.path.slice(0, slash + 1)}.${f.path.slice(slash + 1)}.keys`);
        expect(side, f.path).toBeDefined();
        const ix = parseKeyIndex(gunzipSync(await h.read(side!.path, 0, side!.st.length)).toString('latin1'));
        expect(ix.dataLength).toBe(f.st.length);
        const bytes = await h.read(f.path, 0, f.st.length);
        const keysOf = new Map<number, Set<string>>();
        for (const line of ix.text.slice(ix.keysFrom).split('\n').filter(Boolean)) {
          const [key, post] = line.split('\t');
          let b = 0;
          post!.split(',').forEach((g, i) => {
            b = i === 0 ? Number.parseInt(g, 36) : b + Number.parseInt(g, 36);
            if (!keysOf.has(b)) keysOf.set(b, new Set());
            keysOf.get(b)!.add(key!);
          });
        }
        ix.blocks.forEach((blk, i) => {
          // each block alone is a gzip member of exactly its lines, and its keys are those of its text
          const text = gunzipSync(bytes.subarray(blk.offset, blk.offset + blk.bytes)).toString('utf8');
          expect(text.endsWith('\n')).toBe(true);
          expect(text.split('\n').length - 1).toBe(blk.lines);
          expect(blk.lines).toBeLessThanOrEqual(16);
          const want = new Set<string>();
          expect(addLineKeys(text, want)).toBe(!blk.always);
          if (!blk.always) expect([...(keysOf.get(i) ?? [])].sort()).toEqual([...want].sort());
        });
        records += ix.lines - (format === 'csv' ? 1 : 0);
      }
      expect(records).toBe(n);
    });
  }

  it('the same archive, byte for byte, whether the sink encodes in worker threads or in the main thread (JSON, key_index, CSV)', async () => {
    const n = 3000;
    const input = join(work, 'encode.log');
    // some lines with UTF-8 (bytes ≠ characters) and with a backslash (blocks read whole)
    const text = squidLines(n, 400, 3 * 3600)
      .split('\n')
      .map((l, i) => (i % 37 === 5 ? l.replace('/p/', '/caf\u00e9/') : i % 53 === 7 ? l.replace('/p/', '/a\\b/') : l))
      .join('\n');
    writeFileSync(input, text);
    const variants: Record<string, string> = {
      keys: ', key_index: true, key_block_lines: 16, roll_bytes: 200000',
      plain: ', roll_records: 700',
      csv: ', format: csv, key_index: true, csv: { columns: [origin.line, url.original, destination.ip, user_agent.original] }',
    };
    for (const [name, extra] of Object.entries(variants)) {
      const digests: string[][] = [];
      for (const workers of [1, 2]) {
        const base = `${ROOT_DIR}/encode-${name}-${workers}`;
        const spec = join(work, `encode-${name}-${workers}.yaml`);
        // batches of at most one chunk: the sink gets the same batches from a main-thread parser as from its copies
        writeFileSync(spec, archiveSpec(input, base, { batch: 256, flush: '60s', extra }));
        const r = await runCli([
          'run',
          spec,
          '--workers',
          String(workers),
          '--log-level',
          'warn',
          '--state-dir',
          join(work, `state-encode-${name}-${workers}`),
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr + r.stdout).toContain(workers === 1 ? '--workers 1' : '2 worker threads');
        const files = await walk(h, `${base}/proxy`);
        const list: string[] = [];
        for (const f of files) {
          const bytes = f.st.length ? await h.read(f.path, 0, f.st.length) : Buffer.alloc(0);
          list.push(`${f.path.slice(base.length)} ${createHash('sha256').update(bytes).digest('hex')}`);
        }
        digests.push(list.sort());
      }
      expect(digests[0]!.length, name).toBeGreaterThan(name === 'plain' ? 3 : 1);
      expect(digests[1], name).toEqual(digests[0]);
    }
  });

  // with and without worker threads: the sink's batches encoded in the workers or in the main thread
  for (const workers of ['1', '2']) {
    it(`SIGTERM leaves no temporary file; SIGKILL of the runner at random moments, then a rerun: no record lost, none duplicated (--workers ${workers})`, async () => {
      const n = 60000;
      const base = `${ROOT_DIR}/kill-${workers}`;
      const input = join(work, `kill-${workers}.log`);
      writeFileSync(input, squidLines(n, 5000));
      const spec = join(work, `kill-${workers}.yaml`);
      writeFileSync(spec, archiveSpec(input, base, { checkpoint: true, batch: 400, flush: '150ms', extra: ', roll_records: 3000' }));
      const state = join(work, `state-kill-${workers}`);
      // A clean stop first (SIGTERM mid-run): drained, flushed, every file renamed, exit 0.
      {
        const { child, done } = startCli(['run', spec, '--workers', workers, '--log-level', 'warn', '--state-dir', state]);
        // once it is writing (its signal handlers are in place by then)
        for (let i = 0; i < 200 && (await walk(h, base).catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        child.kill('SIGTERM');
        const r = await done;
        expect(r.code, r.stderr).toBe(0);
        const after = await archived(h, base);
        expect(after.hidden).toEqual([]);
        expect(after.records.length).toBeLessThan(n);
      }
      let kills = 0;
      for (let i = 0; i < 4; i++) {
        const { child, done } = startCli(['run', spec, '--workers', workers, '--log-level', 'warn', '--state-dir', state]);
        const wait = 900 + Math.floor(Math.random() * 1500);
        const timer = setTimeout(() => child.kill('SIGKILL'), wait);
        const r = await done;
        clearTimeout(timer);
        if (r.signal === 'SIGKILL') kills++;
        else {
          expect(r.code, r.stderr).toBe(0);
          break;
        }
      }
      expect(kills).toBeGreaterThan(0);
      const last = await runCli(['run', spec, '--workers', workers, '--log-level', 'warn', '--state-dir', state]);
      expect(last.code, last.stderr).toBe(0);
      const { records, hidden } = await archived(h, base);
      expect(hidden).toEqual([]); // the last run cleaned what the killed runs left
      expectEveryLineOnce(records, n);
    }, 180_000);

    it(`HDFS stopped for 20 s mid-run: the sink retries with backoff, the run finishes, nothing lost, no temporary file left (--workers ${workers})`, async () => {
      const n = 40000;
      const base = `${ROOT_DIR}/outage-${workers}`;
      const input = join(work, `outage-${workers}.log`);
      writeFileSync(input, squidLines(n));
      const spec = join(work, `outage-${workers}.yaml`);
      writeFileSync(spec, archiveSpec(input, base, { batch: 200, flush: '100ms' }));
      const { done } = startCli(['run', spec, '--workers', workers, '--log-level', 'warn', '--state-dir', join(work, `state-outage-${workers}`)]);
      // Let it write some files, then take HDFS away while it runs.
      for (let i = 0; i < 100 && (await walk(h, base).catch(() => [])).length < 3; i++) await new Promise((r) => setTimeout(r, 100));
      const before = (await archived(h, base)).records.length;
      expect(before).toBeLessThan(n);
      await stopHdfs();
      await new Promise((r) => setTimeout(r, 20_000));
      await restartService('hdfs');
      const r = await done;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/failed; retrying/);
      const { records, hidden } = await archived(h, base);
      expect(hidden).toEqual([]);
      expectEveryLineOnce(records, n);
    }, 240_000);
  }

  it('pipelines/proxy-archive.hdfs.yaml archives the sample logs: every record and every reject, by day', async () => {
    const base = `${ROOT_DIR}/shipped`;
    const summaryFile = join(work, 'shipped.json');
    const r = await runCli([
      'run',
      'pipelines/proxy-archive.hdfs.yaml',
      '--var',
      `WEBHDFS=${WEBHDFS_URL}`,
      '--var',
      `ARCHIVE=${base}/proxy`,
      '--var',
      `REJECTS=${base}/rejects`,
      '--var',
      'FLUSH=1s',
      '--log-level',
      'warn',
      '--state-dir',
      join(work, 'state-shipped'),
      '--summary-json',
      summaryFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    const proxy = await archived(h, `${base}/proxy`);
    const rejects = await archived(h, `${base}/rejects`);
    expect(proxy.records.length).toBeGreaterThan(500);
    expect(rejects.records.length).toBeGreaterThan(0);
    expect(rejects.records.every((x) => typeof x.error?.code === 'string')).toBe(true);
    expect(proxy.files.every((f) => /\/proxy\/dt=(\d{4}-\d\d-\d\d|__HIVE_DEFAULT_PARTITION__)\/part-/.test(f))).toBe(true);
    const node = (name: string) => summary.nodes.find((x: { node: string }) => x.node === name);
    expect(node('archive').in).toBe(proxy.records.length);
    expect(node('archive').metrics.records_written).toBe(proxy.records.length);
    expect(node('rejects').in).toBe(rejects.records.length);
  });

  it('a record whose partition field holds ../../etc lands inside the base directory', async () => {
    const base = `${ROOT_DIR}/escape`;
    const input = join(work, 'escape.log');
    // raw lines are records { message, origin }: the partition value is the line itself
    writeFileSync(input, ['../../etc', '..', '/abs/path', 'ok-value'].join('\n') + '\n');
    const spec = join(work, 'escape.yaml');
    writeFileSync(
      spec,
      `version: 1
name: it-escape
nodes:
  src:
    source: file
    with: { paths: ["${input}"] }
  out:
    sink: hdfs
    from: src
    with: { url: "${WEBHDFS_URL}", user: sluice, path: "${base}/in/u=%{message}/", gzip: false }
`,
    );
    const r = await runCli(['run', spec, '--log-level', 'warn', '--state-dir', join(work, 'state-escape')]);
    expect(r.code, r.stderr).toBe(0);
    const files = await walk(h, ROOT_DIR);
    const written = files.filter((f) => !/^\/[^/]+\/(count|kill-\d|outage-\d|client|shipped|replay|csv|keys-json|keys-csv|encode-[a-z]+-\d)\//.test(f.path));
    expect(written).toHaveLength(4);
    for (const f of written) expect(f.path.startsWith(`${base}/in/u=`)).toBe(true);
    expect(await h.stat('/etc')).toBeNull();
    expect(await h.list(`${ROOT_DIR}/etc`)).toBeNull();
  });
});
