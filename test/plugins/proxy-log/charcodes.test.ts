/**
 * The parsers' character codes: each proxy-log file declares the codes it compares against as its own
 * module constants (`const Ch_Slash = 0x2f`; see plugins/transform/proxy-log/charcodes.ts for why).
 * They must be the codes of the reference list, and no file may go back to reading the enum itself.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = resolve(import.meta.dirname, '../../../plugins/transform/proxy-log');

/** `Name = 0x2f` members of the reference enum. */
function reference(): Map<string, number> {
  const text = readFileSync(resolve(DIR, 'charcodes.ts'), 'utf8');
  return new Map([...text.matchAll(/^\s+(\w+) = (0x[0-9a-f]+),/gim)].map((m) => [m[1]!, Number(m[2])]));
}

describe('proxy-log character codes', () => {
  const ref = reference();
  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'charcodes.ts');

  it('the reference list names each code by its character', () => {
    const chars: { [name: string]: string } = { Tab: '\t', Cr: '\r', Space: ' ', Quote: '"', Hash: '#', Slash: '/', Dot: '.', Zero: '0', Nine: '9' };
    expect(ref.size).toBeGreaterThan(20);
    for (const [name, code] of ref) {
      const c = chars[name] ?? (name.length === 1 ? name : undefined);
      if (c !== undefined) expect(code, name).toBe(c.charCodeAt(0));
    }
    expect(ref.get('LBracket')).toBe('['.charCodeAt(0));
    expect(ref.get('Underscore')).toBe('_'.charCodeAt(0));
  });

  it("each file's constants are the reference codes, and no file reads the enum", () => {
    let n = 0;
    for (const f of files) {
      const text = readFileSync(resolve(DIR, f), 'utf8');
      expect(/\bCh\.\w/.test(text), `${f} reads Ch.*`).toBe(false);
      for (const m of text.matchAll(/^const Ch_(\w+) = (0x[0-9a-f]+);/gim)) {
        expect(ref.has(m[1]!), `${f}: Ch_${m[1]} is not in charcodes.ts`).toBe(true);
        expect(Number(m[2]), `${f}: Ch_${m[1]}`).toBe(ref.get(m[1]!));
        n++;
      }
      // every Ch_ name the file uses is declared in it
      for (const m of text.matchAll(/\bCh_(\w+)\b/g)) expect(new RegExp(`^const Ch_${m[1]} = `, 'm').test(text), `${f}: Ch_${m[1]}`).toBe(true);
    }
    expect(n).toBeGreaterThan(50);
  });
});
