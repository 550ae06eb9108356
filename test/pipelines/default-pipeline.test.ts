/** `npm start`: the default sweep over the bundled samples raises exactly the planted detections. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const read = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('pipelines/proxy-ioc-sweep.yaml (the default)', () => {
  it('validates, runs on the bundled data and finds every planted detection and nothing else', async () => {
    const out = tempDir('default-');
    const res = await runCli(['run', 'pipelines/proxy-ioc-sweep.yaml', '--var', `OUT=${out}`, '--summary-json', join(out, 's.json'), '--log-level', 'warn'], {
      cwd: ROOT,
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/alerts +14 records → .*alerts\.jsonl/);

    const alerts = read(join(out, 'alerts.jsonl'));
    const ioc = alerts
      .filter((a) => a.rule.name === 'ioc-sweep')
      .map(
        (a) =>
          `${a.origin.file.split('/').pop()}:${a.origin.line} ${a.threat.enrichments.map((e: any) => `${e.indicator.provider}/${e.matched.atomic}`).join(',')}`,
      )
      .sort();
    expect(ioc).toEqual(
      [
        'combined-access.log:2 bad-ips/198.51.100.23',
        'combined-access.log:3 urlhaus/http://dl.payload.example:80/drop/stage2.exe#frag',
        'proxysg-elff.log:7 bad-ips/cdn.update-check.evil.example',
        'proxysg-elff.log:9 misp/192.0.2.77',
        'squid-access-2.log.gz:2 feodo/203.0.113.66',
        'squid-access.log:4 feodo/203.0.113.66',
        'squid-access.log:7 bad-ips/198.51.100.23',
        'squid-access.log:9 bad-ips/2001:db8:bad::5',
        'zscaler-nss.jsonl:2 stix/phish-login.example',
      ].sort(),
    );
    // Look-alikes never match.
    expect(JSON.stringify(alerts)).not.toMatch(/notevil\.example|evil\.example\.org/);
    const rules = alerts
      .filter((a) => a.rule.ruleset === 'detect')
      .map((a) => `${a.rule.name} ${a.source.ip}`)
      .sort();
    expect(rules).toEqual(['large-post-uncategorised 10.1.1.45', 'raw-ip-executable 10.1.1.21', 'raw-ip-executable 10.1.1.21']);
    const volume = alerts.filter((a) => a.rule.name === 'high-request-volume');
    expect(volume.map((a) => a.source.ip)).toEqual(['10.1.1.99', '10.1.1.99']);
    // Every alert shows what was logged: the raw line (parse keeps it), or a window's first lines.
    for (const a of alerts) expect(typeof a.event.original, JSON.stringify(a.rule)).toBe('string');
    for (const a of volume) expect(a.event.original.split('\n')).toHaveLength(3);

    // Nothing lost: every line is a record, a reject, a directive or a blank.
    const s = JSON.parse(readFileSync(join(out, 's.json'), 'utf8'));
    const parse = s.nodes.find((n: any) => n.node === 'parse');
    expect(parse.in).toBe(parse.out.out + parse.out.invalid + (parse.metrics.directives ?? 0) + (parse.metrics.blank ?? 0));
    const rejects = read(join(out, 'rejects.jsonl'));
    expect(rejects.length).toBe(s.invalid);
    expect(rejects.every((r) => r.error.code && r.origin.file && r.origin.line)).toBe(true);
  });
});
