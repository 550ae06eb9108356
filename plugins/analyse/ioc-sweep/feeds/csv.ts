/**
 * CSV feeds with a column mapping. Understands abuse.ch layouts out of the box: the `#` banner,
 * a header that is itself commented (URLhaus `# id,dateadded,url,...`), quoted headers (Feodo
 * `"first_seen_utc","dst_ip",...`), quoted cells with commas (`"elf,mirai"`), `None` placeholders,
 * a UTF-8 BOM, CRLF, and NBSP padding inside cells. Columns are named in `columns:` (header name or
 * 0-based index); without it they are recognised by common header names.
 */
import { parse } from 'csv-parse/sync';
import type { FeedInput, LoadContext } from './types.js';
import { COLUMN_CANDIDATES, cell, hintForType, rowMeta, toConfidence, toTags } from './types.js';

const HEADER_CELL = /^[A-Za-z][A-Za-z0-9_ ()-]*$/;

function resolveColumn(spec: string | number | undefined, header: string[] | null, candidates: string[]): number {
  if (typeof spec === 'number') return spec;
  if (!header) return -1;
  const lower = header.map((h) => h.trim().toLowerCase());
  if (typeof spec === 'string') return lower.indexOf(spec.trim().toLowerCase());
  for (const c of candidates) {
    const i = lower.indexOf(c);
    if (i >= 0) return i;
  }
  return -1;
}

export class CsvLayoutError extends Error {
  readonly code = 'CSV_NO_VALUE_COLUMN';
}

export function loadCsv(input: FeedInput, ctx: LoadContext): void {
  const { store, tally, feed } = ctx;
  let text = input.text;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delimiter = feed.delimiter ?? ',';

  // A commented header: the last line of the leading `#` block that holds the delimiter.
  let commented: string | null = null;
  for (let pos = 0; pos < text.length; ) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).trim();
    pos = end + 1;
    if (line.length === 0) continue;
    if (line.charCodeAt(0) !== 35) break;
    const body = line.replace(/^#+\s*/, '');
    if (body.includes(delimiter) && !body.includes('#')) commented = body;
  }

  const records = parse(text, {
    bom: true,
    delimiter,
    comment: '#',
    comment_no_infix: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (err: { message?: string; lines?: number } | undefined, raw: string | undefined) => {
      tally.rows++;
      tally.skip('BAD_CSV_ROW', `${input.label}:${err?.lines ?? '?'}`, raw ?? err?.message ?? '');
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];

  let header: string[] | null = null;
  let first = 0;
  const want = feed.header ?? 'auto';
  if (want !== 'no') {
    if (commented !== null && want === 'auto') {
      header = (parse(commented, { delimiter, relax_quotes: true, relax_column_count: true }) as string[][])[0] ?? null;
    } else if (records.length > 0) {
      const r0 = records[0]!.record;
      if (want === 'yes' || r0.every((c) => HEADER_CELL.test(c.trim()))) {
        header = r0;
        first = 1;
      }
    }
  }

  const cols = feed.columns ?? {};
  const idx = {
    value: resolveColumn(cols.value, header, COLUMN_CANDIDATES.value),
    type: resolveColumn(cols.type, header, COLUMN_CANDIDATES.type),
    port: resolveColumn(cols.port, header, COLUMN_CANDIDATES.port),
    first_seen: resolveColumn(cols.first_seen, header, COLUMN_CANDIDATES.first_seen),
    last_seen: resolveColumn(cols.last_seen, header, COLUMN_CANDIDATES.last_seen),
    tags: resolveColumn(cols.tags, header, COLUMN_CANDIDATES.tags),
    description: resolveColumn(cols.description, header, COLUMN_CANDIDATES.description),
    confidence: resolveColumn(cols.confidence, header, COLUMN_CANDIDATES.confidence),
  };
  if (idx.value < 0) {
    const widths = records.length > first ? records[first]!.record.length : 1;
    if (widths === 1 && cols.value === undefined) idx.value = 0;
    else {
      throw new CsvLayoutError(
        `${input.label}: cannot tell which column holds the indicator (header: ${header ? header.join(delimiter) : 'none'}); set columns.value to a header name or a 0-based index`,
      );
    }
  }
  if (header && first === 1) {
    // the header row itself
    tally.rows++;
    tally.ignored++;
  }

  for (let r = first; r < records.length; r++) {
    const { record, info } = records[r]!;
    tally.rows++;
    const where = `${input.label}:${info.lines}`;
    const value = cell(record[idx.value]);
    if (value === undefined) {
      tally.skip('EMPTY', where, record.join(delimiter));
      continue;
    }
    const hint = idx.type >= 0 ? hintForType(record[idx.type] ?? '') : 'auto';
    if (hint === null) {
      tally.skip('UNSUPPORTED_TYPE', where, `${(record[idx.type] ?? '').trim()}: ${value}`);
      continue;
    }
    const portCell = idx.port >= 0 ? cell(record[idx.port]) : undefined;
    const port = portCell !== undefined && /^\d{1,5}$/.test(portCell) ? Number(portCell) : undefined;
    const meta = rowMeta(ctx, {
      first_seen: idx.first_seen >= 0 ? cell(record[idx.first_seen]) : undefined,
      last_seen: idx.last_seen >= 0 ? cell(record[idx.last_seen]) : undefined,
      tags: idx.tags >= 0 ? toTags(record[idx.tags]) : undefined,
      description: idx.description >= 0 ? cell(record[idx.description]) : undefined,
      confidence: idx.confidence >= 0 ? toConfidence(record[idx.confidence]) : undefined,
      port,
    });
    const reason = store.add(value, hint, meta);
    if (reason !== null) tally.skip(reason, where, value);
  }
}
