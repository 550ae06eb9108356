/**
 * The HTTP side of an observed run: `sluice run --metrics ADDR` and/or `--ui ADDR` (one server
 * when both name the same address).
 *
 * | path | what |
 * |---|---|
 * | `/metrics` | Prometheus text (`--metrics`) |
 * | `/healthz` | 200 while the process runs and the run has not failed, else 503 |
 * | `/readyz` | 200 once feeds are loaded, instances created and sources started; 503 before and after |
 * | `/`, `/ui` | the status page (`--ui`): one static file, src/ui/status.html |
 * | `/api/graph` | the pipeline laid out for drawing (src/graph/layout.ts) |
 * | `/api/snapshot` | counts, rates, queues, rejects, feeds, latest alerts (JSON; what `sluice top` reads) |
 * | `/events` | the snapshot once a second as server-sent events (`event: snapshot`), the page's feed |
 * | `/tap?node=N&port=P&rate=R&limit=L` | records sampled at `N.P` as JSON lines (`sluice tap`) |
 *
 * Everything is read-only, but a tap shows records: bind to loopback (the default host) or a
 * network you trust.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { layoutGraph } from '../graph/layout.js';
import type { PipelineMetrics } from './metrics.js';
import type { RunMonitor } from './monitor.js';

export type Feature = 'metrics' | 'ui';

/** `HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1), `[v6]:PORT`. */
export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`expected an address as HOST:PORT, :PORT or PORT, got '${addr}'`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function uiFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/observe → src/ui (sources, tests); dist/src/observe → the package's src/ui
  for (const p of [resolve(here, '../ui/status.html'), resolve(here, '../../../src/ui/status.html')]) if (existsSync(p)) return p;
  throw new Error('status page not found (src/ui/status.html)');
}

/** Highest rate and limit a tap may ask for. */
const TAP_MAX_RATE = 1000;

export class ObserveServer {
  private readonly server: Server;
  private readonly sse = new Set<ServerResponse>();
  private readonly open = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private page: string | undefined;

  constructor(
    private readonly monitor: RunMonitor,
    private readonly features: ReadonlySet<Feature>,
    private readonly metrics: PipelineMetrics | undefined,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`error: ${(err as Error).message}\n`);
      });
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** Listen; resolves with the address actually bound (port 0 picks one). */
  async listen(host: string, port: number): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        ok();
      });
    });
    const a = this.server.address() as AddressInfo;
    this.monitor.tick();
    this.timer ??= setInterval(() => this.beat(), 1000).unref();
    const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${h}:${a.port}` };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Last words to the page and taps, then close every open stream (they would hold close()).
    this.broadcast();
    for (const r of this.open) r.end();
    this.open.clear();
    this.sse.clear();
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    // Idle keep-alive connections close at once; one still mid-request gets a second.
    const force = setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    await closed;
    clearTimeout(force);
  }

  private beat(): void {
    this.monitor.tick();
    this.broadcast();
  }

  private broadcast(): void {
    if (this.sse.size === 0) return;
    const data = `event: snapshot\ndata: ${JSON.stringify(this.monitor.snapshot())}\n\n`;
    for (const r of this.sse) r.write(data);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.send(res, 405, 'text/plain', 'only GET\n');
    const m = this.monitor;
    switch (url.pathname) {
      case '/metrics':
        if (!this.metrics) return this.send(res, 404, 'text/plain', 'metrics are served with --metrics\n');
        return this.send(res, 200, this.metrics.contentType, await this.metrics.text());
      case '/healthz': {
        const ok = m.healthy;
        return this.json(res, ok ? 200 : 503, { status: ok ? 'ok' : 'failed', phase: m.phaseName, error: m.error?.message });
      }
      case '/readyz': {
        const ok = m.ready;
        return this.json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', phase: m.phaseName });
      }
      case '/':
      case '/ui':
      case '/ui/':
        if (!this.features.has('ui'))
          return this.send(res, 404, 'text/plain', 'the status page is served with --ui; here: /metrics /healthz /readyz /api/snapshot /events /tap\n');
        this.page ??= readFileSync(uiFile(), 'utf8');
        return this.send(res, 200, 'text/html; charset=utf-8', this.page);
      case '/api/graph':
        return this.json(res, 200, { pipeline: m.spec.name, description: m.spec.description, file: m.spec.file, layout: layoutGraph(m.spec) });
      case '/api/snapshot':
        return this.json(res, 200, m.snapshot());
      case '/events':
        return this.events(req, res);
      case '/tap':
        return this.tap(req, res, url);
      default:
        return this.send(res, 404, 'text/plain', 'not found\n');
    }
  }

  private send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, 'application/json', JSON.stringify(body) + '\n');
  }

  private events(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.monitor.snapshot())}\n\n`);
    this.sse.add(res);
    this.open.add(res);
    res.on('close', () => {
      this.sse.delete(res);
      this.open.delete(res);
    });
  }

  private tap(_req: IncomingMessage, res: ServerResponse, url: URL): void {
    const node = url.searchParams.get('node') ?? '';
    const port = url.searchParams.get('port') || 'out';
    const rate = Math.min(TAP_MAX_RATE, Math.max(0.1, Number(url.searchParams.get('rate') ?? 10) || 10));
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam ? Math.max(1, Math.floor(Number(limitParam)) || 1) : Number.POSITIVE_INFINITY;
    const why = this.monitor.untappable(node, port);
    if (why) return this.json(res, 400, { error: why });
    if (this.monitor.phaseName === 'done' || this.monitor.phaseName === 'failed')
      return this.json(res, 410, { error: `the run has ended (${this.monitor.phaseName})` });
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    this.open.add(res);
    const detach = this.monitor.attachTap({
      node,
      port,
      rate,
      limit,
      send: (record) => {
        // A slow reader loses samples rather than making the pipeline wait or memory grow.
        if (res.writableLength > 1 << 20) return;
        res.write(JSON.stringify(record) + '\n');
      },
      end: () => {
        this.open.delete(res);
        res.end();
      },
    });
    res.on('close', () => {
      detach();
      this.open.delete(res);
    });
  }
}
