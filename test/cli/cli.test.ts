import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('cli-');
const spec = join(dir, 'spec.yaml');
writeFileSync(
  spec,
  `version: 1
name: drawn
nodes:
  logs: { source: file, with: { paths: ["\${LOGS:-x.log}"] } }
  keep: { transform: filter, from: logs, with: { when: true } }
  split: { transform: route, from: keep, with: { routes: { big: { ">": [{ var: n }, 1] } } } }
  a: { sink: file, from: split.big, with: { path: out/a.jsonl } }
  b: { sink: stdout, from: [split.unmatched, logs.invalid] }
`,
);

describe('sluice CLI', () => {
  it('plugins lists every plugin with its kind and summary', async () => {
    const r = await runCli(['plugins']);
    expect(r.code).toBe(0);
    for (const line of ['source     file', 'sink       file', 'sink       stdout', 'transform  filter', 'transform  route']) expect(r.stdout).toContain(line);
  });

  it('plugins NAME prints a reference generated from the schema, with an example', async () => {
    const r = await runCli(['plugins', 'route']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('routes  (object, required)');
    expect(r.stdout).toContain('mode  ("first" | "all", default "first")');
    expect(r.stdout).toMatch(/Example — .*:\n {2}my-route:\n {4}transform: route/);
    const missing = await runCli(['plugins', 'nope']);
    expect(missing.code).toBe(2);
  });

  it('graph draws the DAG with node kinds and ports, in mermaid and dot', async () => {
    const m = await runCli(['graph', spec]);
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('flowchart LR');
    expect(m.stdout).toContain('logs[/"logs<br/><small>source: file</small>"/]');
    expect(m.stdout).toContain('split -->|big| a');
    expect(m.stdout).toContain('logs -->|invalid| b');
    const d = await runCli(['graph', spec, '--format', 'dot']);
    expect(d.stdout).toContain('"split" -> "b" [label="unmatched"];');
    expect(d.stdout).toContain('"a" [shape=cylinder');
  });

  it('validate exits 0 on a good spec and 2 on a bad one', async () => {
    expect((await runCli(['validate', spec])).code).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 2\nnodes: {}\n');
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:1:10 SLUICE_E_SCHEMA/);
  });

  it('run exits 2 on a bad spec and 1 when a plugin fails at runtime', async () => {
    expect((await runCli(['run', join(dir, 'missing.yaml')])).code).toBe(2);
    const unreadable = join(dir, 'fail.yaml');
    writeFileSync(
      unreadable,
      `version: 1
nodes:
  logs: { source: file, with: { paths: ["${dir}/*.log"] } }
  out: { sink: file, from: [logs, logs.invalid], with: { path: "${dir}/a-file/sub/out.jsonl" } }
`,
    );
    writeFileSync(join(dir, 'a.log'), 'x\n');
    writeFileSync(join(dir, 'a-file'), ''); // a file where the sink needs a directory
    const r = await runCli(['run', unreadable, '--log-level', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("run failed: node 'out'");
  });

  it('schema --check agrees with the committed schema', async () => {
    const r = await runCli(['schema', '--check']);
    expect(r.stdout + r.stderr).toContain('up to date');
    expect(r.code).toBe(0);
  });
});
