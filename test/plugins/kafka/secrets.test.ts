/**
 * Credentials in a kafka node's `with:` (fields marked `writeOnly` in the schema) are secrets:
 * whether written in the spec or interpolated from a variable of any name, they never appear in
 * validation errors, `graph` output or logs. No broker is contacted: the run fails to connect to
 * a port nothing listens on, and its error output is checked.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { loadSpec } from '../../../src/spec/validate.js';
import { builtinRegistry } from '../../../src/plugins/builtins.js';
import { runCli } from '../../helpers/cli.js';

const SPEC = (password: string, extra = '') => `version: 1
nodes:
  logs:
    source: kafka
    with:
      brokers: ["127.0.0.1:1"]
      topics: [web.proxy]
      sasl: { mechanism: scram-sha-512, username: sluice, password: "${password}" }
      tls: { key_passphrase: "pass-phrase-value", reject_unauthorized: false }${extra}
  out:
    sink: stdout
    from: logs
  bad:
    sink: stdout
    from: logs.invalid
`;

describe('kafka credentials are secrets', () => {
  it('are collected for redaction whether literal or interpolated from an innocent-looking variable', async () => {
    const { spec } = await loadSpec('/virtual/k.yaml', {
      text: SPEC('${PW_FOR_TEST}'),
      vars: { PW_FOR_TEST: 'sw0rdfish-literal' },
      registry: builtinRegistry(),
    });
    expect(spec?.secrets).toEqual(expect.arrayContaining(['sw0rdfish-literal', 'pass-phrase-value']));
  });

  it('never appear in validation errors, graph output or run errors', async () => {
    const dir = tempDir('secret-');
    const bad = join(dir, 'bad.yaml');
    // an unknown key next to the password, and a wrong type: errors about this very mapping
    writeFileSync(bad, SPEC('sw0rdfish-literal', '\n      bogus: 1'));
    const v = await runCli(['validate', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('bogus');
    expect(v.stdout + v.stderr).not.toContain('sw0rdfish');

    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      SPEC('sw0rdfish-literal').replace('reject_unauthorized: false', 'reject_unauthorized: false, ca_file: /nonexistent/sw0rdfish-literal.pem'),
    );
    const g = await runCli(['graph', good]);
    expect(g.stdout + g.stderr).not.toContain('sw0rdfish');

    const r = await runCli(['run', good, '--once', '--state-dir', join(dir, 'state'), '--log-level', 'debug']);
    expect(r.code).toBe(1);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain('sw0rdfish');
    expect(r.stdout + r.stderr).not.toContain('pass-phrase-value');
  });
});
