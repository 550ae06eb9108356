/**
 * The `hdfs` sink's encoder (plugins/sink/hdfs/encode.ts) against what it stands for, record by
 * record: each line's bytes are `serialise(record)` in UTF-8 and its character count is the
 * line's length; its directory and stream are the path template's and the origin's; with
 * `key_index`, its keys are those `addLineKeys` cuts from its line (none, and the record marked,
 * when the line must be read whole). The encoded batch survives the move to another thread.
 */
import { describe, it, expect } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import hdfsSink from '../../../plugins/sink/hdfs/index.js';
import { HdfsEncoder, serialise, type EncodeConfig, type HdfsLines } from '../../../plugins/sink/hdfs/encode.js';
import { compileTemplate, PathExpander, streamOf } from '../../../plugins/sink/hdfs/paths.js';
import { addLineKeys } from '../../../src/line-keys.js';
import { getPath, type EncodedBatch, type Rec } from '../../../src/api.js';

const base: EncodeConfig = {
  path: '/a/dt=%Y-%m-%d/%{user.name}',
  time_field: '@timestamp',
  missing_value: '__HIVE_DEFAULT_PARTITION__',
  format: 'json',
  csv: { columns: ['origin.line', 'url.original', 'user_agent.original', 'tags'], header: true, delimiter: ',' },
  idempotent: true,
  origin_field: 'origin',
  stream_fields: [],
  key_index: true,
};

/** Records with what makes lines differ: hosts, IPv6, UTF-8, backslashes, quotes, line ends, a Date, arrays, missing fields. */
function records(n: number): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < n; i++) {
    const host = `h${i % 13}.example.${i % 3 ? 'com' : 'org'}`;
    const r: Rec = {
      '@timestamp': i % 17 === 3 ? undefined : new Date(Date.UTC(2026, 11, 5, 22 + (i % 5), i % 60)).toISOString(),
      url: { original: `http://${host}/p/${i}${i % 11 === 2 ? '/caf\u00e9' : ''}${i % 19 === 4 ? '\\x' : ''}`, domain: host },
      destination: { ip: i % 7 === 1 ? `2001:db8::${i.toString(16)}` : `192.0.2.${i % 250}` },
      user: i % 5 === 0 ? {} : { name: i % 9 === 0 ? '../../etc' : `u${i % 4}` },
      user_agent: { original: i % 23 === 6 ? 'a "quoted",\nagent' : 'curl/8.1' },
      event: { duration: i % 4 === 0 ? 1.5 : i },
      tags: i % 2 ? ['x', `t.${i}`] : undefined,
      origin: i % 29 === 8 ? null : { file: `/logs/f${i % 2}.log`, line: 1 + (i >> 1) },
    };
    if (i % 31 === 10) r.when = new Date(Date.UTC(2026, 0, 1)); // not a plain value: keys from the line's text
    out.push(r);
  }
  return out;
}

function check(cfg: EncodeConfig, recs: Rec[], enc: HdfsLines): void {
  const expander = new PathExpander(compileTemplate(cfg.path), { timeField: cfg.time_field, missing: cfg.missing_value });
  const data = Buffer.from(enc.data.buffer, enc.data.byteOffset, enc.data.byteLength);
  let start = 0;
  let missing = 0;
  for (let i = 0; i < recs.length; i++) {
    const line = serialise(cfg, recs[i]!);
    const bytes = data.subarray(start, enc.ends[i]);
    start = enc.ends[i]!;
    expect(bytes.toString('utf8'), `record ${i}`).toBe(line);
    expect(enc.chars[i]).toBe(line.length);
    const e = expander.expand(recs[i]!);
    if (e.missingTime) missing++;
    expect(enc.dirs[enc.dirOf[i]!]).toBe(e.dir);
    const sp = cfg.idempotent ? streamOf(getPath(recs[i]!, cfg.origin_field)) : undefined;
    expect(enc.labelOf[i]! < 0 ? undefined : { label: enc.labels[enc.labelOf[i]!], pos: enc.pos[i] }).toEqual(sp);
    if (!cfg.key_index) continue;
    const want = new Set<string>();
    const ok = addLineKeys(line, want);
    expect(enc.unkeyed![i] === 0, `record ${i} keyed`).toBe(ok);
    const got = enc.keyIds!.subarray(i === 0 ? 0 : enc.keyEnds![i - 1], enc.keyEnds![i]);
    if (ok) expect(new Set([...got].map((k) => enc.keys![k]))).toEqual(want);
    if (enc.lines) expect(enc.lines[i]).toBe(line.split('\n').length - 1);
  }
  expect(start).toBe(data.length);
  expect(enc.missingTime).toBe(missing);
  expect(new Set(enc.dirs).size).toBe(enc.dirs.length);
}

describe('hdfs sink encoder', () => {
  for (const format of ['json', 'csv'] as const) {
    it(`${format}: lines, directories, streams and keys per record as the sink defines them`, () => {
      const cfg = { ...base, format };
      const enc = new HdfsEncoder(cfg);
      const recs = records(400);
      // several batches through one encoder: nothing carried from one to the next changes a result
      for (const slice of [recs.slice(0, 150), recs.slice(150, 151), recs.slice(151)]) {
        const b = enc.encode(slice);
        expect(b.count).toBe(slice.length);
        check(cfg, slice, b.value);
      }
      const fresh = new HdfsEncoder(cfg).encode(recs.slice(151));
      expect(fresh.value).toEqual(enc.encode(recs.slice(151)).value);
    });
  }

  it('without key_index or idempotence: no keys, no streams', () => {
    const cfg = { ...base, key_index: false, idempotent: false };
    const b = new HdfsEncoder(cfg).encode(records(50));
    expect(b.value.keys).toBeUndefined();
    expect([...b.value.labelOf].every((l) => l === -1)).toBe(true);
    check(cfg, records(50), b.value);
  });

  it('crosses to another thread with its buffers moved, not copied, and reads the same there', () => {
    const enc = new HdfsEncoder(base);
    const recs = records(100);
    const b: EncodedBatch<HdfsLines> = enc.encode(recs);
    const expected = structuredClone(b.value);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage({ count: b.count, value: b.value }, b.transfer as ArrayBuffer[]);
    expect(b.value.data.byteLength).toBe(0); // moved
    const got = receiveMessageOnPort(port2)!.message as EncodedBatch<HdfsLines>;
    port1.close();
    expect(got.value).toEqual(expected);
    check(base, recs, got.value);
  });

  it('the plugin declares it: the runtime makes one per thread from the config', () => {
    const e = hdfsSink.encoder!({ ...base, gzip: true } as never);
    expect(typeof e.encode).toBe('function');
  });
});
