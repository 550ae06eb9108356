/**
 * Sections of a RESULTS file (`## Kafka`, `## Peers`, …) that one kind of bench run writes and the
 * others keep when they rewrite the file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Replace the section starting `heading` (e.g. `## Kafka`), or add it before `## Profile notes`. */
export function writeSection(file: string, heading: string, section: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\n## Profile notes\n\n_None yet._\n';
  const i = text.indexOf(`\n${heading}`);
  if (i >= 0) {
    const j = text.indexOf('\n## ', i + 1);
    text = `${text.slice(0, i + 1)}${section.trim()}\n${j >= 0 ? text.slice(j) : ''}`;
  } else {
    const k = text.indexOf('\n## Profile notes');
    text = k >= 0 ? `${text.slice(0, k + 1)}${section.trim()}\n\n${text.slice(k + 1)}` : `${text.trimEnd()}\n\n${section.trim()}\n`;
  }
  writeFileSync(file, text);
}

/** The section starting `heading`, if the file has one. */
export function readSection(file: string, heading: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(`\n${heading}`);
  if (i < 0) return undefined;
  const j = text.indexOf('\n## ', i + 1);
  return text.slice(i + 1, j >= 0 ? j + 1 : undefined).trim();
}
