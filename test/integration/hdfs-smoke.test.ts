/**
 * The real HDFS works with the project's WebHDFS client (`webhdfs`): writes go through the
 * NameNode's 307 redirect to the DataNode (127.0.0.1:9864); read back, rename, stat, delete.
 * Quirks (see test/services/README.md): createWriteStream() uploads only when something is
 * piped into it; mkdir/rename call back with `undefined`.
 */
import { beforeAll, afterAll, expect, it } from 'vitest';
import http from 'node:http';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { describeWithServices, useServices, restartService, servicePid, stopHdfs, hdfsUp, WEBHDFS, HDFS_DATANODE_HTTP_PORT } from './services.js';

const require = createRequire(import.meta.url);
const WebHDFS = require('webhdfs') as { createClient(opts: Record<string, unknown>): any };

const cb = <T = unknown>(f: (done: (err: Error | null, v?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));

describeWithServices(['hdfs'], 'hdfs (real mini cluster) with webhdfs', () => {
  const base = `/sluice-smoke/${randomUUID().slice(0, 8)}`;
  let hdfs: any;

  beforeAll(async () => {
    await useServices(['hdfs']);
    hdfs = WebHDFS.createClient({ ...WEBHDFS, user: 'sluice' });
  });

  afterAll(async () => {
    if (hdfs) await cb((d) => hdfs.unlink('/sluice-smoke', true, d)).catch(() => {});
  });

  it('redirects a CREATE from the NameNode to the DataNode on 127.0.0.1', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ host: WEBHDFS.host, port: WEBHDFS.port, method: 'PUT', path: `/webhdfs/v1${base}/probe?op=CREATE&user.name=sluice` }, resolve);
      req.on('error', reject);
      req.end();
    });
    res.resume();
    expect(res.statusCode).toBe(307);
    expect(new URL(res.headers.location!).host).toBe(`127.0.0.1:${HDFS_DATANODE_HTTP_PORT}`);
  });

  it('mkdir, write through the redirect, read back, rename, stat, readdir, delete', async () => {
    expect(await cb((d) => hdfs.mkdir(`${base}/in`, d))).toBeUndefined();

    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"url":"http://example.test/${i}"}\n`);
    const body = lines.join('');
    const tmp = `${base}/in/.part-0.json.tmp`;
    await new Promise<void>((resolve, reject) => {
      const remote = hdfs.createWriteStream(tmp);
      remote.on('error', reject);
      remote.on('finish', () => resolve());
      Readable.from([Buffer.from(body)]).pipe(remote);
    });

    expect(await cb((d) => hdfs.rename(tmp, `${base}/in/part-0.json`, d))).toBeUndefined();
    const stat = await cb<{ type: string; length: number }>((d) => hdfs.stat(`${base}/in/part-0.json`, d));
    expect(stat.type).toBe('FILE');
    expect(stat.length).toBe(Buffer.byteLength(body));
    expect(await cb<boolean>((d) => hdfs.exists(tmp, (e: boolean) => d(null, e)))).toBe(false);

    const read = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const remote = hdfs.createReadStream(`${base}/in/part-0.json`);
      remote.on('error', reject);
      remote.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
      remote.on('finish', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    expect(read).toBe(body);

    // append (also redirected), then readFile
    await cb((d) => hdfs.appendFile(`${base}/in/part-0.json`, '{"n":"last"}\n', d));
    const whole = await cb<Buffer>((d) => hdfs.readFile(`${base}/in/part-0.json`, d));
    expect(whole.toString().endsWith('{"n":"last"}\n')).toBe(true);

    const names = (await cb<Array<{ pathSuffix: string }>>((d) => hdfs.readdir(`${base}/in`, d))).map((f) => f.pathSuffix);
    expect(names).toEqual(['part-0.json']);

    await cb((d) => hdfs.unlink(`${base}/in`, true, d));
    expect(await cb<boolean>((d) => hdfs.exists(`${base}/in`, (e: boolean) => d(null, e)))).toBe(false);
  });

  it('keeps files across stopHdfs() / startHdfs()', async (ctx) => {
    if (!servicePid('hdfs')) ctx.skip(); // a cluster these scripts did not start: not ours to stop
    const file = `${base}/kept/a.txt`;
    await cb((d) => hdfs.writeFile(file, 'kept across a restart\n', d));
    expect(await stopHdfs()).toBe(true);
    expect(await hdfsUp()).toBe(false);
    await restartService('hdfs');
    const back = await cb<Buffer>((d) => hdfs.readFile(file, d));
    expect(back.toString()).toBe('kept across a restart\n');
  });
});
