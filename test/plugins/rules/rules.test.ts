import { describe, it, expect } from 'vitest';
import rulesPlugin from '../../../plugins/analyse/rules/index.js';
import { createProcessor, processAll, testContext } from '../../helpers/harness.js';
import { compileConfigSchema } from '../../../src/spec/ajv.js';
import type { Rec } from '../../../src/api.js';

const EXECUTABLES = 'examples/lists/executable-extensions.txt';

function issues(withConfig: unknown) {
  const copy = structuredClone(withConfig);
  const validate = compileConfigSchema(rulesPlugin.schema);
  expect(validate(copy), JSON.stringify(validate.errors)).toBe(true);
  return rulesPlugin.check!(copy as any);
}

const rawIpExe = {
  name: 'raw-ip-executable',
  description: 'Executable download from a raw IP address',
  severity: 'high',
  tags: ['malware-delivery'],
  when: { and: [{ is_ip: { var: 'url.domain' } }, { in_list: [{ file_extension: { var: 'url.path' } }, 'executables'] }] },
};
const bigPost = {
  name: 'large-post-uncategorised',
  severity: 'medium',
  when: { and: [{ '==': [{ var: 'http.request.method' }, 'POST'] }, { '>': [{ var: 'http.request.bytes' }, 1000000] }] },
};

function proxyRec(over: Rec): Rec {
  return {
    '@timestamp': '2024-03-01T10:00:00.000Z',
    source: { ip: '10.1.1.20' },
    http: { request: { method: 'GET', bytes: 300 }, response: { status_code: 200, bytes: 1000 } },
    event: { dataset: 'squid.access', action: 'TCP_MISS' },
    ...over,
  };
}

describe('rules analyser', () => {
  it('raises one alert per matching rule, with the record and rule fields; records pass through', async () => {
    const ctx = testContext('detect');
    const p = await createProcessor(rulesPlugin, { lists: { executables: EXECUTABLES }, rules: [rawIpExe, bigPost] }, ctx);
    const exe = proxyRec({ url: { original: 'http://198.51.100.23/files/invoice.exe', domain: '198.51.100.23', path: '/files/invoice.exe' } });
    const post = proxyRec({
      url: { domain: 'upload.unknown-host.example', path: '/put' },
      http: { request: { method: 'POST', bytes: 5_000_000 } },
      tags: ['site-a'],
    });
    const benign = proxyRec({ url: { domain: 'www.example.com', path: '/setup.exe' } });
    const before = structuredClone([exe, post, benign]);
    const out = await processAll(p, [[exe, post], [benign]]);

    expect(out.out).toEqual([exe, post, benign]);
    expect(out.out![0]).toBe(exe);
    expect([exe, post, benign]).toEqual(before); // inputs untouched
    expect(out.alerts).toHaveLength(2);
    const [a1, a2] = out.alerts!;
    expect(a1).toMatchObject({
      '@timestamp': exe['@timestamp'],
      source: { ip: '10.1.1.20' },
      url: { original: 'http://198.51.100.23/files/invoice.exe' },
      event: { kind: 'alert', severity: 73, dataset: 'squid.access', action: 'TCP_MISS' },
      rule: { name: 'raw-ip-executable', description: 'Executable download from a raw IP address', severity: 'high', ruleset: 'detect' },
      tags: ['malware-delivery'],
    });
    expect(a2).toMatchObject({ rule: { name: 'large-post-uncategorised', severity: 'medium' }, event: { kind: 'alert', severity: 47 }, tags: ['site-a'] });
    expect(a2!.rule.description).toBeUndefined();
    expect(ctx.counters).toMatchObject({ alerts: 2, 'alerts.raw-ip-executable': 1, 'alerts.large-post-uncategorised': 1 });
  });

  it('a record matching several rules yields one alert each; tags merge without duplicates', async () => {
    const p = await createProcessor(rulesPlugin, {
      rules: [
        { name: 'a', when: { '==': [{ var: 'x' }, 1] }, tags: ['t1', 'shared'] },
        { name: 'b', when: { '>': [{ var: 'x' }, 0] }, tags: ['shared'] },
        { name: 'c', when: { '<': [{ var: 'x' }, 0] } },
      ],
    });
    const out = await processAll(p, [[{ x: 1, tags: ['shared'] }, { x: 5 }, { y: 1 }]]);
    expect(out.alerts!.map((a) => [a.rule.name, a.x, a.tags])).toEqual([
      ['a', 1, ['shared', 't1']],
      ['b', 1, ['shared']],
      ['b', 5, ['shared']],
    ]);
    // Alerts without a timestamp get one; the records' own are kept.
    expect(typeof out.alerts![2]!['@timestamp']).toBe('string');
  });

  it('rules cannot read prototypes even where validation is bypassed', async () => {
    // The schema and check() refuse these; compiled var never walks into prototypes regardless.
    const p = await createProcessor(rulesPlugin, { rules: [{ name: 'probe', when: { '!!': [{ var: 'toString' }] } }] });
    const out = await processAll(p, [[{ a: 1 }]]);
    expect(out.alerts).toEqual([]);
  });

  it('validates the documented example', () => {
    for (const ex of rulesPlugin.examples!) expect(issues(ex.with)).toEqual([]);
  });

  it('reports rule compile errors through check() with a pointer to the rule', async () => {
    const found = issues({
      rules: [
        { name: 'ok', when: { '==': [1, 1] } },
        { name: 'typo', when: { and: [{ '==': [1, 1] }, { cidrmatch: [{ var: 'destination.ip' }, '10.0.0.0/8'] }] } },
        { name: 'proto', when: { '==': [{ var: '__proto__' }, 1] } },
        { name: 'ctor', when: { '!!': { var: 'constructor.prototype' } } },
        { name: 'ok', when: { in_list: [{ var: 'url.domain' }, 'nosuchlist'] } },
        { name: 'badcidr', when: { cidr_match: [{ var: 'destination.ip' }, '300.0.0.0/8'] } },
      ],
    });
    expect(found.map((i) => [i.path, i.code])).toEqual([
      ['/rules/1/when/and/1/cidrmatch', 'LOGIC_INVALID'],
      ['/rules/2/when/==/0/var', 'LOGIC_INVALID'],
      ['/rules/3/when/!!/var', 'LOGIC_INVALID'],
      ['/rules/4/name', 'RULE_DUPLICATE'],
      ['/rules/4/when/in_list/1', 'LOGIC_UNKNOWN_LIST'],
      ['/rules/5/when/cidr_match/1', 'LOGIC_BAD_CIDR'],
    ]);
    expect(found[0]!.message).toContain("unknown json-logic operation 'cidrmatch'");
    await expect(createProcessor(rulesPlugin, { rules: [{ name: 'x', when: { var: '__proto__' } }] })).rejects.toThrow(/prototype/);
  });

  it('reports a missing list file at its declaration', () => {
    expect(issues({ lists: { exes: 'examples/lists/nope.txt' }, rules: [{ name: 'r', when: { in_list: [{ var: 'a' }, 'exes'] } }] })).toMatchObject([
      { path: '/lists/exes', code: 'LIST_NOT_FOUND' },
    ]);
  });

  it('rejects unknown keys and severities at the schema', () => {
    const validate = compileConfigSchema(rulesPlugin.schema);
    expect(validate({ rules: [{ name: 'r', when: true, severty: 'high' }] })).toBe(false);
    expect(validate({ rules: [{ name: 'r', when: true, severity: 'urgent' }] })).toBe(false);
    expect(validate({ rules: [] })).toBe(false);
  });
});
