/**
 * The squid fast path (the ten default columns read from token spans) must build exactly the record,
 * or exactly the error, that the general token parser builds — same fields, same key order.
 */
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SQUID_PROBE_PATHS, SquidState, parseSquid, parseSquidTokens, probeSquid } from '../../../plugins/transform/proxy-log/squid.js';
import { SquidSpanPlan, probeSquidBytes } from '../../../plugins/transform/proxy-log/squid-bytes.js';
import { getPath, lineSpans, spanHash, spanText, type LineSpans } from '../../../src/api.js';
import { ParseError } from '../../../plugins/transform/proxy-log/errors.js';
import type { ProxyRecord } from '../../../plugins/transform/proxy-log/record.js';
import { FAST_PATTERNS, originValid, publishedValidator } from '../../../plugins/transform/proxy-log/index.js';
import { FIXTURES, EXAMPLES } from './helpers.js';

/** The result as text, absent (`undefined`) values included: the two paths must build the same layout too. */
function show(r: ProxyRecord | ParseError): string {
  return JSON.stringify(r instanceof ParseError ? [r, null] : [null, r], (_k, v) => (v === undefined ? '<undefined>' : v));
}

// one state per path, as two parser instances would have
const fastState = new SquidState();
const generalState = new SquidState();

function both(line: string): [string, string] {
  return [show(parseSquid(line, fastState)), show(parseSquidTokens(line, generalState))];
}

/** Squid lines: the ten default columns and their variants, near misses, extra columns and separators. */
function squidLines(): fc.Arbitrary<string> {
  const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
  const col = [
    // (the column-by-column reader guesses the time's end from its 14th character: near misses of that too)
    pick(
      '1699948800.007',
      '1699948800',
      '1699948800.',
      '-',
      '1e9',
      '0.5',
      '99999999999999.1234',
      '253402300799.999',
      '253402300800.000',
      '169994880.0071',
      '1699948800.0071',
      '16999488 0.007',
      '1699948800.07',
    ),
    pick('1344', '-', '0', 'x', '  12', '-5', '12x', '999999999999999', '1000000000000000', '"1"'),
    pick(
      '10.11.65.43',
      '010.1.2.3',
      '2001:DB8::1',
      'host.example',
      '-',
      '10.0.0.1 55123',
      '10.0.0.1x',
      '1.2.3.045',
      '1.2.3.4.5',
      '255.255.255.255',
      '0.0.0.0',
      '256.1.1.1',
      '1.2.3',
      '"10.0.0.1"',
    ),
    pick(
      'TCP_MISS/302',
      'TCP_MISS/-',
      'TCP_MISS/',
      '/200',
      'TCP_MISS/1000',
      'NONE/000',
      'TCP_MISS/2/0',
      '55123',
      'TCP_MISS/200x',
      '"TCP_MISS/200',
      'TCP_MISS/-1',
    ),
    pick('759', '-', 'abc', '0', '999999999999999', '1000000000000000', '-1', '7"'),
    pick('GET', 'CONNECT', 'get', '-', '12', 'M_X-1', '"GET', 'G"ET', `M${'X'.repeat(31)}`, `M${'X'.repeat(32)}`),
    fc.oneof(
      pick(
        'http://fonts.googleapis.com/search?q=a',
        'app.example.fr:443',
        'http://',
        'http:// x.example/',
        'HTTP://X.Example.:80/a#f',
        'error:invalid-request',
        'http://[2001:db8::1]:8080/p',
        '/rel',
        '*',
        'http://1.2.3.4/',
      ),
      // the forms the fast URL reader takes, and their near misses
      fc
        .tuple(
          pick('http://', 'https://', '', 'ftp://', 'Http://', 'http:/', 'https:/', 'httpx://', 'https//', 'http:///'),
          pick(
            'a.example',
            'a-b.example',
            '1.2.3.4',
            '1.2.3',
            'a.example.',
            'a_b.example',
            'A.example',
            'user@a.example',
            '-',
            'xn--bcher-kva.example',
            '010.1.2.3',
            '',
            // the record schema's longest domain (253), and one longer
            `${'a'.repeat(245)}.example`,
            `${'b'.repeat(246)}.example`,
          ),
          pick('', '/', '/x', '/x?q=1', '?q', '/x#f', '/x?q#f', ':443', ':', ':99999', ':0443', ':8080/x', '/a?b?c', ':443/x', '/x?'),
        )
        .map(([a, b, c]) => a + b + c),
    ),
    pick('walter.moore', '-', 'HTTP/1.1', '1.0', 'DIRECT/1.2.3.4', '"CN=A B"', 'CN=Agent Smith', 'H', 'HTTP', 'HTTP/', 'HI/x', 'DI-RECT/1.2.3.4'),
    pick(
      'HIER_DIRECT/34.250.45.16',
      'HIER_NONE/-',
      'DIRECT/2620:70a3::ebab',
      'HIER_DIRECT/',
      'X/1.2.3.4',
      'hier/x',
      'PARENT_HIT/proxy.example',
      'HIER_DIRECT',
      'HIER-DIRECT/1.2.3.4',
      'HIER_DIRECTx/1.2.3.4',
      '/1.2.3.4',
      'HIER_DIRECT/1.2.3.4x',
      'HIER_DIRECT/1.2.3.045',
      'HIER_DIRECT/1.2.3.4.5',
      'HIER_DIRECT/-',
      'HIER_DIRECT/0.0.0.0',
      'H/1.2.3.4',
    ),
    pick('text/html', '-', '"-"', 'image/png', 'x"y'),
  ];
  const extra = fc.array(pick('"http://ref.example/"', '"Mozilla/5.0"', 'cat', '-', '80', '\t', '"unterminated'), { maxLength: 3 });
  const sep = pick(' ', '  ', ' \t', '   ');
  return fc.tuple(fc.tuple(...col), extra, sep, pick('', '\r', ' '), fc.integer({ min: 0, max: 12 })).map(([cols, more, sp, end, drop]) => {
    const parts = [...cols, ...more];
    if (drop < parts.length && drop >= 10) parts.splice(drop, 1);
    return parts.join(sp) + end;
  });
}

/** Lines in the default layout with valid columns (most take a fast path), and the addresses and URLs they vary. */
function defaultLayoutLines(): fc.Arbitrary<string> {
  const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
  const host = fc.oneof(
    fc.stringMatching(/^[a-z0-9-]{1,20}(\.[a-z0-9-]{1,12}){0,3}$/),
    pick(`${'a'.repeat(245)}.example`, `${'b'.repeat(246)}.example`, '1.2.3.4', 'xn--bcher-kva.example', 'a.example.'),
  );
  return fc
    .tuple(
      fc.integer({ min: 0, max: 253402300799 }),
      fc.integer({ min: 0, max: 999 }),
      fc.oneof(fc.nat(), fc.constant('-')),
      pick('10.11.65.43', '0.0.0.0', '255.255.255.255', '2001:DB8::1', '::ffff:10.0.0.1', 'host.example', 'fe80::1%eth0'),
      pick('TCP_MISS', 'TCP_TUNNEL', 'NONE'),
      fc.oneof(fc.integer({ min: 0, max: 999 }), fc.constant('-')),
      fc.oneof(fc.nat(), fc.constant('-'), fc.constant('999999999999999')),
      pick('GET', 'POST', 'CONNECT', 'M_X-1', 'PROPFIND'),
      fc.tuple(pick('http://', 'https://', ''), host, pick('/', '/x?q=1', '/a?b?c', ':443', ':8080', '/x?')).map(([a, b, c]) => a + b + c),
      pick('-', 'walter.moore', 'CN=x'),
      pick('HIER_DIRECT/34.250.45.16', 'HIER_NONE/-', 'DIRECT/2620:70a3::EBAB', 'PARENT_HIT/proxy.example', 'ORIGINAL_DST/10.0.0.9', 'HIER_DIRECT/9.9.9.9'),
      pick('text/html', '-', 'image/png'),
      // squid pads the elapsed time to six characters
      fc.boolean(),
    )
    .map(([sec, ms, el, client, act, code, size, method, url, user, hier, mime, pad]) =>
      [`${sec}.${String(ms).padStart(3, '0')}`, pad ? String(el).padStart(6) : el, client, `${act}/${code}`, size, method, url, user, hier, mime].join(' '),
    );
}

/** Every squid fixture and bundled sample, as text (the plain files and the gzipped one). */
function squidSamples(): string[] {
  const files = [
    resolve(FIXTURES, 'squid-native.log'),
    resolve(FIXTURES, 'squid-custom.log'),
    resolve(FIXTURES, 'bluecoat-squid.log'),
    resolve(EXAMPLES, 'squid-access.log'),
  ];
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  texts.push(gunzipSync(readFileSync(resolve(EXAMPLES, 'squid-access-2.log.gz'))).toString('utf8'));
  return texts;
}

describe('squid fast path', () => {
  it('equals the general parser on every fixture and sample line', () => {
    const texts = squidSamples();
    let n = 0;
    for (const t of texts)
      for (const line of t.split('\n')) {
        const [fast, general] = both(line);
        expect(fast, line).toBe(general);
        n++;
      }
    expect(n).toBeGreaterThan(50);
  });

  it('equals the general parser on generated lines (property)', () => {
    fc.assert(
      fc.property(fc.oneof(squidLines(), defaultLayoutLines()), (line) => {
        const [fast, general] = both(line);
        expect(fast, JSON.stringify(line)).toBe(general);
      }),
      { numRuns: 20000 },
    );
  });
});

describe('the squid line probe (probeSquid: the fields a record gate reads, without the record)', () => {
  const probeState = new SquidState();
  const parseState = new SquidState();
  const spanState = new SquidState();
  // every path twice, the second time hashed: the spans of both must be the probe's values
  const spanPaths = [...SQUID_PROBE_PATHS, ...SQUID_PROBE_PATHS];
  const plan = new SquidSpanPlan(spanPaths, SQUID_PROBE_PATHS);
  const hostPlan = new SquidSpanPlan(SQUID_PROBE_PATHS, ['url.domain']);
  const sp = lineSpans(spanPaths.length);
  /**
   * The line's bytes as a block holds them: after other lines (a prefix whose length varies, so the
   * spans must count from the block's start) and before the next; null for a line that is not
   * ASCII (the runtime asks the objects about those).
   */
  let pad = 0;
  const inBlock = (line: string): { bytes: Uint8Array; from: number; to: number } | null => {
    if (!isAscii(Buffer.from(line, 'utf8'))) return null;
    pad = (pad + 7) % 40;
    const prefix = `${'x'.repeat(pad)}\n`;
    const bytes = new Uint8Array(Buffer.from(`${prefix}${line}\n1699948800.007 1 10.0.0.1 TCP_MISS/200`, 'latin1'));
    return { bytes, from: prefix.length, to: prefix.length + line.length };
  };
  const probeBytes = (line: string, p: SquidSpanPlan, out: LineSpans): { bytes: Uint8Array; ok: boolean } | null => {
    const b = inBlock(line);
    return b === null ? null : { bytes: b.bytes, ok: probeSquidBytes(b.bytes, b.from, b.to, spanState, p, out) };
  };
  /**
   * The spans of the line's bytes (`probeSquidBytes`) against the probe's object: the same lines
   * answered (but a DIRECT peer the line does not spell canonically), each span the probe's value,
   * each hash `spanHash` of it.
   */
  const checkSpans = (line: string, p: ReturnType<typeof probeSquid>): void => {
    const r = probeBytes(line, plan, sp);
    if (r === null) return;
    const { bytes, ok } = r;
    if (p === undefined || !ok) {
      expect(ok, JSON.stringify(line)).toBe(false);
      if (p !== undefined) expect(line.includes(p.destination.ip ?? line), JSON.stringify(line)).toBe(false);
      return;
    }
    spanPaths.forEach((path, k) => {
      const a = sp.start[k]!;
      const v = a < 0 ? undefined : spanText(bytes, a, sp.end[k]!);
      expect(v, `${path} of ${JSON.stringify(line)}`).toBe(getPath(p, path));
      if (k >= SQUID_PROBE_PATHS.length && a >= 0) expect(sp.hash[k], `${path} of ${JSON.stringify(line)}`).toBe(spanHash(bytes, a, sp.end[k]!));
    });
    // a plan hashing only the host: the URL reader's hash on the way
    const hp = lineSpans(SQUID_PROBE_PATHS.length);
    const hr = probeBytes(line, hostPlan, hp)!;
    expect(hr.ok).toBe(true);
    const d = SQUID_PROBE_PATHS.indexOf('url.domain');
    expect(hp.hash[d]).toBe(spanHash(hr.bytes, hp.start[d]!, hp.end[d]!));
  };
  /** Checks one line; true when the probe answered for it. */
  const check = (line: string): boolean => {
    const p = probeSquid(line, probeState);
    checkSpans(line, p);
    if (p === undefined) return false;
    const r = parseSquid(line, parseState);
    // a probed line is one the parser turns into a record it vouches for (no schema check, no reject)
    expect(r, JSON.stringify(line)).not.toBeInstanceOf(ParseError);
    expect(parseState.valid, JSON.stringify(line)).toBe(true);
    for (const path of SQUID_PROBE_PATHS) expect(getPath(p, path), `${path} of ${JSON.stringify(line)}`).toBe(getPath(r as ProxyRecord, path));
    return true;
  };

  it('gives the values of the parsed record, and answers only for lines parsed into a record (fixtures, samples)', () => {
    const texts = squidSamples();
    let probed = 0;
    let lines = 0;
    for (const t of texts)
      for (const line of t.split('\n')) {
        lines++;
        if (check(line)) probed++;
      }
    expect(probed).toBeGreaterThan(20);
    expect(probed).toBeLessThan(lines); // broken lines, comments, variants: parsed
  });

  it('gives the values of the parsed record (property: default layout, variants, near misses)', () => {
    let probed = 0;
    fc.assert(
      fc.property(fc.oneof(defaultLayoutLines(), squidLines()), (line) => {
        if (check(line)) probed++;
      }),
      { numRuns: 20000 },
    );
    // the generators reach the probed form (client a dotted quad, a common URL) often enough to say something
    expect(probed).toBeGreaterThan(1000);
  });

  it('answers the same for the lines of one block read in order as for each line alone (property: tabs and # between lines)', () => {
    const blockPlan = new SquidSpanPlan(spanPaths, SQUID_PROBE_PATHS);
    const blockSp = lineSpans(spanPaths.length);
    const blockState = new SquidState();
    // a line that holds a tab or a '#' somewhere, beside lines that do not
    const spiced = fc.tuple(fc.oneof(defaultLayoutLines(), squidLines()), fc.constantFrom('', '\t', '#', ' #', '\t#'), fc.nat()).map(([l, c, k]) => {
      const at = l.length === 0 ? 0 : k % l.length;
      return l.slice(0, at) + c + l.slice(at);
    });
    fc.assert(
      fc.property(fc.array(spiced, { minLength: 1, maxLength: 30 }), (raw) => {
        const lines = raw.map((l) => l.replace(/[\r\n]/g, ' ')).filter((l) => isAscii(Buffer.from(l, 'utf8')));
        const text = lines.join('\n');
        const bytes = new Uint8Array(Buffer.from(text, 'latin1'));
        let from = 0;
        for (const line of lines) {
          const to = from + line.length;
          const ok = probeSquidBytes(bytes, from, to, blockState, blockPlan, blockSp);
          const alone = probeBytes(line, plan, sp)!;
          expect(ok, JSON.stringify(line)).toBe(alone.ok);
          if (ok)
            spanPaths.forEach((path, k) => {
              const a = blockSp.start[k]!;
              const b = sp.start[k]!;
              expect(a < 0 ? undefined : spanText(bytes, a, blockSp.end[k]!), path).toBe(b < 0 ? undefined : spanText(alone.bytes, b, sp.end[k]!));
            });
          from = to + 1;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("reads memory refilled with another block afresh (its tabs and # are not the last block's)", () => {
    const reuse = new SquidSpanPlan(spanPaths, SQUID_PROBE_PATHS);
    const state = new SquidState();
    const good = '1699948800.007 1 10.0.0.1 TCP_MISS/200 5 GET http://a.example/x - HIER_DIRECT/1.2.3.4 text/html';
    const memory = new Uint8Array(4 * good.length);
    const fill = (lines: string[]): number[] => {
      memory.fill(0x20);
      memory.set(Buffer.from(lines.join('\n'), 'latin1'));
      const starts = [0];
      for (const l of lines) starts.push(starts[starts.length - 1]! + l.length + 1);
      return starts;
    };
    let at = fill([good, good]);
    expect(probeSquidBytes(memory, at[0]!, at[0]! + good.length, state, reuse, sp)).toBe(true);
    expect(probeSquidBytes(memory, at[1]!, at[1]! + good.length, state, reuse, sp)).toBe(true);
    for (const bad of [good.replace(' - ', ' -\t'), good.replace('/x', '/x#f')]) {
      at = fill([bad, good]);
      expect(probeSquidBytes(memory, at[0]!, at[0]! + bad.length, state, reuse, sp), JSON.stringify(bad)).toBe(false);
      expect(probeSquidBytes(memory, at[1]!, at[1]! + good.length, state, reuse, sp)).toBe(true);
    }
  });

  it('leaves to the parser what it does not read cheaply: a long host, an error URL, a tab, a URL it would not take', () => {
    const base = (url: string, sep = ' ') => `1699948800.007 1 10.0.0.1 TCP_MISS/200 5 GET ${url} -${sep}HIER_DIRECT/1.2.3.4 text/html`;
    expect(check(base('http://a.example/x'))).toBe(true);
    expect(probeSquid(base(`http://${'b'.repeat(246)}.example/`), probeState)).toBeUndefined();
    expect(probeSquid(base('error:invalid-request'), probeState)).toBeUndefined();
    expect(probeSquid(base('http://a.example/x', '\t'), probeState)).toBeUndefined();
    expect(probeSquid(base('http://A.example/x'), probeState)).toBeUndefined();
    expect(probeSquid('# a comment', probeState)).toBeUndefined();
    // a tab anywhere: in the user's place, inside the action, the URL's path, the last column, after it
    const tabs = [
      base('http://a.example/x', '\t'),
      base('http://a.example/x').replace('TCP_MISS', 'TCP\tMISS'),
      base('http://a.example/x\ty'),
      `${base('http://a.example/x')}\tx`,
      `${base('http://a.example/x')}\t`,
      base('http://a.example/x').replace('text/html', 'text\thtml'),
    ];
    for (const line of tabs) expect(probeSquid(line, probeState), JSON.stringify(line)).toBeUndefined();
    for (const line of [base(`http://${'b'.repeat(246)}.example/`), base('error:invalid-request'), base('http://A.example/x'), '# a comment', ...tabs])
      expect(probeBytes(line, plan, sp)!.ok, JSON.stringify(line)).toBe(false);
  });

  it('gives spans where the line spells the values, and leaves the rest to the parser (a peer written otherwise)', () => {
    const line = (peer: string, hier = 'HIER_DIRECT') => `1699948800.007 1 10.0.0.1 TCP_MISS/200 5 GET http://a.example/x - ${hier}/${peer} text/html`;
    expect(check(line('2001:db8::7'))).toBe(true);
    // canonical text differs from the line's: the probe's object has it, the spans cannot
    expect(probeSquid(line('2001:DB8:0::7'), probeState)?.destination.ip).toBe('2001:db8::7');
    expect(probeBytes(line('2001:DB8:0::7'), plan, sp)!.ok).toBe(false);
    // not a DIRECT request: no destination.ip, whatever the peer
    expect(probeBytes(line('2001:DB8:0::7', 'FIRSTUP_PARENT'), plan, sp)!.ok).toBe(true);
    expect(sp.start[SQUID_PROBE_PATHS.indexOf('destination.ip')]).toBe(-1);
    expect(check(line('2001:DB8:0::7', 'FIRSTUP_PARENT'))).toBe(true);
    // the hierarchy code remembered from line to line: DIRECT, then not, then DIRECT again
    for (const h of ['HIER_DIRECT', 'NONE', 'HIER_DIRECT', 'ORIGINAL_DST', 'TIMEOUT_FIRSTUP_PARENT']) expect(check(line('192.0.2.1', h))).toBe(true);
  });
});

describe('records the squid parser vouches for (SquidState.valid: not validated again)', () => {
  const st = new SquidState();
  const validate = publishedValidator();
  const vouched = (line: string): ProxyRecord | undefined => {
    const r = parseSquid(line, st);
    return r instanceof ParseError || !st.valid ? undefined : r;
  };

  it('pass the published record schema (property; fixtures and samples)', () => {
    let n = 0;
    const files = [resolve(FIXTURES, 'squid-native.log'), resolve(FIXTURES, 'squid-custom.log'), resolve(EXAMPLES, 'squid-access.log')];
    for (const f of files)
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const rec = vouched(line);
        if (rec === undefined) continue;
        n++;
        expect(validate(rec), `${line} ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    expect(n).toBeGreaterThan(10);
    // lines in the default layout (most take the fast path), then the variants and near misses
    let m = 0;
    fc.assert(
      fc.property(fc.oneof(defaultLayoutLines(), squidLines()), (line) => {
        const rec = vouched(line);
        if (rec === undefined) return;
        m++;
        expect(validate(rec), `${JSON.stringify(line)} ${JSON.stringify(validate.errors)}`).toBe(true);
      }),
      { numRuns: 20000 },
    );
    // the generator reaches the fast path often enough for the property to say something
    expect(m).toBeGreaterThan(2000);
  });

  it('a host longer than the schema allows is left to the validator', () => {
    const line = `1699948800.007 1 10.0.0.1 TCP_MISS/200 5 GET http://${'b'.repeat(246)}.example/ - HIER_DIRECT/1.2.3.4 text/html`;
    const rec = parseSquid(line, st);
    expect(rec).not.toBeInstanceOf(ParseError);
    expect(st.valid).toBe(false);
    expect(validate(rec)).toBe(false);
  });

  it('originValid answers as the schema does about `origin` (property)', () => {
    const base = { '@timestamp': '2023-11-14T08:00:00.007Z', event: { dataset: 'squid.access' } };
    const value = fc.oneof(
      fc.constantFrom(undefined, null, 0, -1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -0, '', 'x', '7', true, [], {}),
      fc.integer(),
      fc.string({ maxLength: 4 }),
    );
    const origin = fc.oneof(
      value,
      fc.record({ file: value, line: value, topic: value, partition: value, offset: value, other: value }, { requiredKeys: [] }),
      fc.array(value, { maxLength: 2 }),
    );
    fc.assert(
      fc.property(origin, (o) => {
        expect(originValid(o), JSON.stringify(o)).toBe(validate({ ...base, origin: o }));
      }),
      { numRuns: 20000 },
    );
  });
});

describe('record schema patterns', () => {
  const schemaText = readFileSync(resolve(import.meta.dirname, '../../../schemas/proxy-record.schema.json'), 'utf8');
  const patterns = [...new Set([...schemaText.matchAll(/"pattern": (".*?[^\\]")/g)].map((m) => JSON.parse(m[1]!) as string))];

  it('the hand-written testers are for patterns of the schema', () => {
    expect(Object.keys(FAST_PATTERNS).length).toBe(2);
    for (const p of Object.keys(FAST_PATTERNS)) expect(patterns).toContain(p);
  });

  it('each tester answers exactly as its regular expression (property)', () => {
    const unit = fc.oneof(
      fc.constantFrom(...'0123456789abcdefzAFZ.:-T/+ \t\n\u000b\f\r\u00a0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\ud800'.split('')),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    const text = fc.oneof(
      fc.array(unit, { maxLength: 30 }).map((a) => a.join('')),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    for (const p of Object.keys(FAST_PATTERNS))
      for (const flags of ['', 'u']) {
        const re = new RegExp(p, flags);
        const fast = FAST_PATTERNS[p]!;
        fc.assert(
          fc.property(text, (s) => {
            expect(fast(s), JSON.stringify([p, s])).toBe(re.test(s));
          }),
          { numRuns: 5000 },
        );
        for (const s of [
          '2024-03-22T16:16:01.000Z',
          '2024-03-22T16:16:01.000Zx',
          '10.0.0.1',
          '2001:db8::1',
          'a.example',
          'http',
          'h2c+x-y.z',
          '',
          '\ud83d\ude00',
          'a\udc00',
        ]) {
          expect(fast(s), JSON.stringify([p, s])).toBe(re.test(s));
        }
      }
  });
});
