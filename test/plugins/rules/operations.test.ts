import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cidrMatch,
  isIp,
  startsWithOp,
  endsWithOp,
  lower,
  fileExtension,
  inList,
  parseCidr,
  checkLogicRule,
  prepareLogicRule,
} from '../../../src/logic/operations.js';
import { parseIPv4 } from '../../../src/api.js';
import { compileLogic, applyLogicReference } from '../../../src/logic/index.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('lists-');
const listFile = join(dir, 'bad-hosts.txt');
writeFileSync(listFile, '# known bad\nevil.example\n\n  spaced.example  \r\n42\n');

describe('cidr_match', () => {
  it('matches IPv4 ranges on bit boundaries', () => {
    expect(cidrMatch('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(cidrMatch('11.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(cidrMatch('192.168.1.127', '192.168.1.0/25')).toBe(true);
    expect(cidrMatch('192.168.1.128', '192.168.1.0/25')).toBe(false);
    expect(cidrMatch('255.255.255.255', '0.0.0.0/0')).toBe(true);
    expect(cidrMatch('198.51.100.23', '198.51.100.23')).toBe(true); // a bare address is a /32
    expect(cidrMatch('198.51.100.24', '198.51.100.23/32')).toBe(false);
    // A host-bits-set network is normalised, as routers do.
    expect(cidrMatch('10.9.9.9', '10.1.2.3/8')).toBe(true);
  });

  it('matches IPv6 ranges, bracketed literals and IPv4-mapped addresses', () => {
    expect(cidrMatch('2001:db8::1', '2001:db8::/32')).toBe(true);
    expect(cidrMatch('2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(cidrMatch('[2001:db8:0:0:0:0:0:1]', '2001:db8::1/128')).toBe(true);
    expect(cidrMatch('2001:db8:abcd:12ff::1', '2001:db8:abcd:1200::/55')).toBe(true);
    expect(cidrMatch('2001:db8:abcd:1400::1', '2001:db8:abcd:1200::/55')).toBe(false);
    expect(cidrMatch('::ffff:10.1.1.1', '10.0.0.0/8')).toBe(true);
    expect(cidrMatch('10.1.1.1', '2001:db8::/32')).toBe(false);
  });

  it('takes a list of ranges, and never matches junk', () => {
    const ranges = ['10.0.0.0/8', '172.16.0.0/12', 'fc00::/7'];
    expect(cidrMatch('172.31.255.1', ranges)).toBe(true);
    expect(cidrMatch('fd12::1', ranges)).toBe(true);
    expect(cidrMatch('8.8.8.8', ranges)).toBe(false);
    for (const junk of [null, undefined, 42, '', 'example.com', '10.0.0', '10.0.0.256', '1.2.3.4.5', ' 10.0.0.1', '010.0.0.1.']) {
      expect(cidrMatch(junk, ranges)).toBe(false);
    }
    expect(cidrMatch('10.0.0.1', 'not-a-cidr')).toBe(false);
    expect(cidrMatch('10.0.0.1', 42)).toBe(false);
  });

  it('agrees with arithmetic on random IPv4 addresses and prefixes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, n, bits) => {
        const toIp = (x: number) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
        const mask = bits === 0 ? 0 : Number((0xffffffffn << BigInt(32 - bits)) & 0xffffffffn);
        const expected = (a & mask) >>> 0 === (n & mask) >>> 0;
        expect(cidrMatch(toIp(a), `${toIp(n)}/${bits}`)).toBe(expected);
        expect(parseIPv4(toIp(a))).toBe(a);
      }),
    );
  });

  it('parses only well-formed CIDRs', () => {
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/8')).toBeUndefined();
    expect(parseCidr('2001:db8::/32')).toBeDefined();
  });
});

describe('string operations', () => {
  it('starts_with / ends_with take one affix or a list, and are false for non-strings', () => {
    expect(startsWithOp('/wp-admin/x', '/wp-')).toBe(true);
    expect(startsWithOp('/x', ['/a', '/x'])).toBe(true);
    expect(endsWithOp('evil.example', '.example')).toBe(true);
    expect(endsWithOp('a.EXE', ['.exe', '.dll'])).toBe(false); // case-sensitive: use lower
    expect(endsWithOp(lower('a.EXE'), ['.exe', '.dll'])).toBe(true);
    expect(startsWithOp(null, 'a')).toBe(false);
    expect(endsWithOp(12, '2')).toBe(false);
  });

  it('lower leaves non-strings alone', () => {
    expect(lower('MiXeD.Example')).toBe('mixed.example');
    expect(lower(5)).toBe(5);
    expect(lower(null)).toBe(null);
  });

  it('file_extension reads the last path segment only', () => {
    expect(fileExtension('/files/Invoice.EXE')).toBe('exe');
    expect(fileExtension('/a.b/c')).toBe('');
    expect(fileExtension('/archive.tar.gz')).toBe('gz');
    expect(fileExtension('/.htaccess')).toBe('');
    expect(fileExtension('/dl/setup.msi?x=a.b')).toBe('msi');
    expect(fileExtension('/dl/setup.')).toBe('');
    expect(fileExtension('/')).toBe('');
    expect(fileExtension(undefined)).toBe('');
  });

  it('is_ip recognises IPv4 and IPv6 literals only', () => {
    expect(isIp('198.51.100.23')).toBe(true);
    expect(isIp('2001:db8::1')).toBe(true);
    expect(isIp('[::1]')).toBe(true);
    expect(isIp('example.com')).toBe(false);
    expect(isIp('1.2.3')).toBe(false);
    expect(isIp(3232235777)).toBe(false);
  });
});

describe('in_list', () => {
  it('loads a list file once: trimmed lines, comments and blanks skipped', () => {
    expect(inList('evil.example', listFile)).toBe(true);
    expect(inList('spaced.example', listFile)).toBe(true);
    expect(inList('# known bad', listFile)).toBe(false);
    expect(inList('', listFile)).toBe(false);
    expect(inList(42, listFile)).toBe(true); // numbers compare as their text
    expect(inList(null, listFile)).toBe(false);
    expect(inList('good.example', listFile)).toBe(false);
  });

  it('resolves declared list names when a rule is prepared, and fails early on a missing file', () => {
    const rule = { in_list: [{ var: 'url.domain' }, 'bad'] };
    const prepared = prepareLogicRule(rule, { bad: listFile }, (p) => p);
    const c = compileLogic(prepared);
    expect(c.test({ url: { domain: 'evil.example' } })).toBe(true);
    expect(c.test({ url: { domain: 'fine.example' } })).toBe(false);
    expect(() => prepareLogicRule(rule, { bad: join(dir, 'missing.txt') }, (p) => p)).toThrow(/cannot read list file/);
  });
});

describe('operations inside compiled rules', () => {
  const rules = [
    { cidr_match: [{ var: 'destination.ip' }, ['10.0.0.0/8', '2001:db8::/32']] },
    { and: [{ is_ip: { var: 'url.domain' } }, { in_list: [{ file_extension: { var: 'url.path' } }, listFile] }] },
    { ends_with: [{ lower: { var: 'url.domain' } }, '.example'] },
    { some: [{ var: 'ips' }, { cidr_match: [{ var: '' }, '192.168.0.0/16'] }] }, // delegated to json-logic-js
    { starts_with: [{ var: 'url.path' }, ['/wp-', '/admin']] },
  ];
  const recArb = fc.record({
    destination: fc.record({ ip: fc.constantFrom('10.1.1.1', '11.1.1.1', '2001:db8::5', 'junk', '') }),
    url: fc.record({ domain: fc.constantFrom('198.51.100.23', 'A.Example', 'x.org', '42'), path: fc.constantFrom('/f/a.exe', '/wp-login', '/x.42', '/') }),
    ips: fc.array(fc.constantFrom('192.168.1.1', '10.0.0.1', 'x')),
  });

  it('compiled evaluation equals the json-logic-js reference', () => {
    fc.assert(
      fc.property(recArb, (r) => {
        for (const rule of rules) expect(compileLogic(rule).evaluate(r)).toEqual(applyLogicReference(rule, r));
      }),
    );
  });
});

describe('checkLogicRule', () => {
  it('points at unknown operations and prototype access', () => {
    expect(checkLogicRule({ and: [true, { cidr_matches: [1, 2] }] }, '/rules/2/when')).toMatchObject([
      { path: '/rules/2/when/and/1/cidr_matches', code: 'LOGIC_INVALID' },
    ]);
    expect(checkLogicRule({ var: '__proto__' }, '/w')).toMatchObject([{ path: '/w/var' }]);
    expect(checkLogicRule({ '==': [{ var: 'constructor.prototype' }, 1] }, '/w')).toMatchObject([{ path: '/w/==/0/var' }]);
    expect(checkLogicRule({ '==': [{ var: 'a.__proto__.b' }, 1] }, '/w')).toHaveLength(1);
  });

  it('checks constant CIDRs, in_list names and argument counts', () => {
    expect(checkLogicRule({ cidr_match: [{ var: 'x' }, ['10.0.0.0/8', '10.0.0.0/99']] }, '/w')).toMatchObject([
      { path: '/w/cidr_match/1/1', code: 'LOGIC_BAD_CIDR' },
    ]);
    expect(checkLogicRule({ cidr_match: [{ var: 'x' }, 'nope'] }, '/w')).toMatchObject([{ path: '/w/cidr_match/1', code: 'LOGIC_BAD_CIDR' }]);
    expect(checkLogicRule({ in_list: [{ var: 'x' }, 'executables'] }, '/w', { executables: 'whatever.txt' })).toEqual([]);
    expect(checkLogicRule({ in_list: [{ var: 'x' }, listFile] }, '/w')).toEqual([]);
    const unknown = checkLogicRule({ in_list: [{ var: 'x' }, 'exes'] }, '/w', { executables: 'x.txt' });
    expect(unknown).toMatchObject([{ path: '/w/in_list/1', code: 'LOGIC_UNKNOWN_LIST' }]);
    expect(unknown[0]!.hint).toContain('executables');
    expect(checkLogicRule({ in_list: [{ var: 'x' }, { var: 'y' }] }, '/w')).toMatchObject([{ path: '/w/in_list/1', code: 'LOGIC_ARGS' }]);
    expect(checkLogicRule({ ends_with: [{ var: 'x' }] }, '/w')).toMatchObject([{ code: 'LOGIC_ARGS' }]);
  });
});
