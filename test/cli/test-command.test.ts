/**
 * `sluice test`, run as CI runs it (the built CLI): every shipped pipeline's tests pass; a changed
 * expectation fails with a readable, field-level diff; a broken test file exits 2 naming the
 * line; input can be given at any node and tests can live in the spec itself.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const PIPELINES = readdirSync(join(ROOT, 'pipelines')).filter((f) => /\.ya?ml$/.test(f));
const specs = PIPELINES.filter((f) => !/\.test\.ya?ml$/.test(f));

describe('sluice test', () => {
  it('passes every test of every shipped pipeline (pipelines/*.yaml), and every pipeline has tests', async () => {
    const res = await runCli(['test', ...PIPELINES.map((f) => `pipelines/${f}`), 'examples/window-and-rules.yaml']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(/FAIL|no tests/);
    for (const s of specs) expect(res.stdout).toContain(`pipelines/${s}`);
    // tests written inside the spec
    expect(res.stdout).toMatch(/examples\/window-and-rules\.yaml\n {2}ok {3}an executable from a bare IP/);
    // the spec and its side file name one pipeline: it runs once
    expect(res.stdout).toMatch(new RegExp(`tests: \\d+ passed, \\d+ total \\(${specs.length + 1} pipelines\\) in `));
    // piped: no colours, no control characters
    expect([...res.stdout].filter((c) => c !== '\n' && c.charCodeAt(0) < 32)).toEqual([]);
  });

  it('fails with exit 1 and a field-level diff when an expectation is changed', async () => {
    const dir = tempDir('pipetest-');
    copyFileSync(join(ROOT, 'pipelines/proxy-ioc-sweep.yaml'), join(dir, 'sweep.yaml'));
    const tests = readFileSync(join(ROOT, 'pipelines/proxy-ioc-sweep.test.yaml'), 'utf8');
    const changed = tests.replace('provider: feodo, tags', 'provider: urlhaus, tags').replace('parse: { count: 4 }', 'parse: { count: 3 }');
    expect(changed).not.toBe(tests);
    writeFileSync(join(dir, 'sweep.test.yaml'), changed);
    // data paths are relative to the working directory, as for sluice run
    const res = await runCli(['test', join(dir, 'sweep.yaml')], { cwd: ROOT });
    expect(res.code).toBe(1);
    const out = res.stdout;
    expect(out).toContain('FAIL a Feodo C2 address raises one alert naming the indicator and feed');
    expect(out).toMatch(/at .*sweep\.test\.yaml:6\n/);
    expect(out).toContain('sweep.alerts: records[0] does not match any record; closest is record 1 of 1');
    expect(out).toContain('record 1 (squid-access.log:4):');
    expect(out).toMatch(/threat\.enrichments\[0\]\.indicator\.provider:\n\s+expected: "urlhaus"\n\s+got: {6}"feodo"\n/);
    expect(out).toContain('FAIL look-alike domains raise nothing; a subdomain of an indicated domain does');
    expect(out).toContain('parse: expected 3 records, got 4');
    expect(out).toContain('got record 1 (proxysg-elff.log:2): {"@timestamp":"2024-05-14T10:00:31.000Z"');
    expect(out).toMatch(/ok +a broken line goes to rejects/);
    expect(out).toMatch(/tests: 2 failed, \d+ passed, \d+ total \(1 pipeline\)/);

    const one = await runCli(['test', join(dir, 'sweep.test.yaml'), '--filter', 'BROKEN LINE'], { cwd: ROOT });
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/tests: 1 passed, \d+ filtered out, 1 total/);
    // a test file elsewhere names its spec: only its tests run, with its vars
    writeFileSync(
      join(dir, 'mine.test.yaml'),
      `spec: ${JSON.stringify(join(ROOT, 'pipelines/proxy-ioc-sweep.yaml'))}\nvars: { WINDOW_LATENESS: 1m }\ntests:\n  - name: mine\n    input: { lines: ["1715680801.120 231 10.1.1.10 TCP_MISS/200 10182 GET http://www.example.com/ alice DIRECT/192.0.2.10 text/html"] }\n    expect: { alerts: { count: 0 }, parse: { count: 1 } }\n`,
    );
    const mine = await runCli(['test', join(dir, 'mine.test.yaml')], { cwd: ROOT });
    expect(mine.stdout).toMatch(/mine\.test\.yaml \(for pipelines\/proxy-ioc-sweep\.yaml\)\n {2}ok {3}mine /);
    expect(mine.stdout).toMatch(/tests: 1 passed, 1 total \(1 pipeline\)/);
    expect(mine.code).toBe(0);
    const none = await runCli(['test', join(dir, 'sweep.yaml'), '--filter', 'no such test'], { cwd: ROOT });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no test ran (none matches --filter 'no such test')");
  });

  it('exits 2 on a broken test, naming file, line, column and a hint', async () => {
    const dir = tempDir('pipetest-');
    writeFileSync(
      join(dir, 'p.yaml'),
      'version: 1\nnodes:\n  src: { source: file, with: { paths: [x.log] } }\n  parse: { transform: proxy-log, from: src }\n  out: { sink: stdout, from: [parse, parse.invalid] }\n',
    );
    writeFileSync(
      join(dir, 'p.test.yaml'),
      [
        'tests:',
        '  - name: t',
        '    input: { at: pars, lines: [a] }',
        '    expect:',
        '      parse.invald: { count: 1 }',
        '      out: { count: 1, conditions: [{ nope: 1 }] }',
        '',
      ].join('\n'),
    );
    const res = await runCli(['test', join(dir, 'p.yaml')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("p.test.yaml:3:18 SLUICE_E_TEST input at 'pars' is not a node of p.yaml");
    expect(res.stderr).toContain("hint: did you mean 'parse'?");
    expect(res.stderr).toContain("p.test.yaml:5:7 SLUICE_E_TEST 'parse' has no output port 'invald'");
    expect(res.stderr).toContain("did you mean 'parse.invalid'?");
    expect(res.stderr).toMatch(/p\.test\.yaml:6:\d+ SLUICE_E_TEST condition: unknown json-logic operation 'nope'/);
    expect(res.stdout).toContain('3 errors, tests not run');
  });

  it('runs tests written in the spec, input at a non-source node, exact records and conditions', async () => {
    const dir = tempDir('pipetest-');
    const feed = join(dir, 'feed.txt');
    writeFileSync(feed, '203.0.113.66\nevil.example\n');
    writeFileSync(
      join(dir, 'p.yaml'),
      `version: 1
nodes:
  src: { source: file, with: { paths: [/nonexistent/*.log] } }
  tag: { transform: set, from: src, with: { fields: { seen: true } } }
  sweep: { analyse: ioc-sweep, from: tag, with: { feeds: [{ name: f, path: ${JSON.stringify(feed)}, format: list }] } }
  out: { sink: file, from: sweep.alerts, with: { path: /nonexistent/dir/alerts.jsonl } }
tests:
  - name: records straight into the sweep
    input: { at: sweep, records: [{ destination: { ip: 203.0.113.66 } }, { url: { domain: a.evil.example } }, { url: { domain: notevil.example } }] }
    expect:
      sweep: { count: 3 }
      tag: { count: 0 }
      out:
        ordered: true
        records:
          - threat.enrichments: [{ indicator: { value: 203.0.113.66, provider: f } }]
          - threat.enrichments: [{ indicator: { value: evil.example } }]
        conditions: [{ "==": [{ var: rule.name }, ioc-sweep] }]
  - name: lines with Kafka origins
    input: { topic: web.proxy, partition: 2, first_offset: 41, lines: [a, b] }
    expect:
      tag: { ordered: true, records: [{ message: a, origin: { topic: web.proxy, partition: 2, offset: "41" } }, { message: b, origin: { offset: "42" } }] }
  - name: exact records show unexpected fields
    input: { records: [{ message: x }] }
    expect:
      tag: { exact: true, records: [{ message: x }] }
`,
    );
    const res = await runCli(['test', join(dir, 'p.yaml')]);
    expect(res.stdout).toMatch(/ok +records straight into the sweep/);
    expect(res.stdout).toMatch(/ok +lines with Kafka origins/);
    expect(res.stdout).toMatch(
      /FAIL exact records show unexpected fields[\s\S]*tag: records\[0\] does not match any record; closest is record 1 of 1\n\s+record 1:\n\s+seen: not expected; got true\n/,
    );
    expect(res.code).toBe(1);
  });
});

describe('sluice test when the pipeline itself fails', () => {
  it('fails that test with the run error and its code, and runs the others', async () => {
    const dir = tempDir('pipetest-');
    writeFileSync(
      join(dir, 'boom.mjs'),
      `export default { name: 'boom', kind: 'transform', summary: 'throws on a record holding boom', schema: { type: 'object' },
  create: () => ({ process(recs) { if (recs.some((r) => r.message === 'boom')) throw new Error('boom!'); return { out: recs }; } }) };\n`,
    );
    writeFileSync(
      join(dir, 'p.yaml'),
      `version: 1
plugins: [./boom.mjs]
nodes:
  src: { source: file, with: { paths: [/nonexistent/*.log] } }
  b: { transform: boom, from: src }
  out: { sink: stdout, from: b }
tests:
  - name: explodes
    input: { lines: [boom] }
    expect: { out: { count: 1 } }
  - name: fine
    input: { lines: [calm] }
    expect: { out: { records: [{ message: calm, origin: { file: test.log, line: 1 } }] } }
`,
    );
    const res = await runCli(['test', join(dir, 'p.yaml')]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL explodes .*\n.*\n\s+the pipeline failed: node 'b': boom! \[SLUICE_E_RUNTIME\]\n/);
    expect(res.stdout).toMatch(/ok +fine/);
    expect(res.stdout).toContain('tests: 1 failed, 1 passed, 2 total');
  });
});
