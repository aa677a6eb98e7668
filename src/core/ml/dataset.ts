// Tables as they arrive (text cells from a CSV) and the label column.
import { parse } from 'csv-parse/sync';

export interface Table {
  columns: string[];
  /** text cells, one array per row, aligned with columns */
  rows: string[][];
}

export function parseCsv(text: string): Table {
  const records = parse(text.replace(/^\uFEFF/, ''), { skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  const [header, ...rows] = records;
  if (!header) return { columns: [], rows: [] };
  const columns = header.map((h, i) => h || `column ${i + 1}`);
  return { columns, rows: rows.map((r) => columns.map((_, i) => r[i] ?? '')) };
}

/** Text that counts as missing. */
export function isBlank(s: string | undefined): boolean {
  if (s === undefined) return true;
  const t = s.trim().toLowerCase();
  return t === '' || t === 'na' || t === 'n/a' || t === 'nan' || t === 'null' || t === 'none' || t === '?' || t === '-';
}

/** A number from a cell (thousands separators, a leading currency sign and a trailing % allowed), NaN when it is not one. */
export function parseNumber(s: string): number {
  const t = s
    .trim()
    .replace(/^([-+]?)[¥￥$€£]\s*/, '$1')
    .replace(/,(?=\d{3}(\D|$))/g, '')
    .replace(/%$/, '');
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

const POSITIVE_WORDS = ['1', 'yes', 'y', 'true', 't', 'churn', 'churned', 'lost', 'left', 'inactive', 'positive', '是', '流失', '已流失'];

export interface Label {
  y: Float64Array;
  /** the value that counts as 1 */
  positive: string;
  negative: string;
  /** rows whose label was blank, left out */
  droppedRows: number[];
  /** how the positive value was chosen */
  note: string;
}

export class LabelError extends Error {}

/** Reads a binary label; more than two values need `positive`. */
export function readLabel(values: string[], positive?: string): Label {
  const counts = new Map<string, number>();
  const dropped: number[] = [];
  values.forEach((v, i) => {
    if (isBlank(v)) dropped.push(i);
    else counts.set(v.trim(), (counts.get(v.trim()) ?? 0) + 1);
  });
  const distinct = [...counts.keys()];
  if (distinct.length < 2) throw new LabelError(`the label has only one value (${distinct[0] ?? 'none'}); a model needs both outcomes`);
  let pos: string;
  let note: string;
  if (positive !== undefined) {
    pos = distinct.find((d) => d === positive) ?? distinct.find((d) => d.toLowerCase() === positive.toLowerCase()) ?? '';
    if (!pos) throw new LabelError(`--positive ${positive} is not a value of the label; its values are: ${distinct.slice(0, 20).join(', ')}`);
    note = `"${pos}" counts as positive (--positive)`;
  } else {
    if (distinct.length > 2)
      throw new LabelError(`the label has ${distinct.length} values (${distinct.slice(0, 10).join(', ')}${distinct.length > 10 ? ', …' : ''}); say which one is positive with --positive VALUE`);
    const known = distinct.find((d) => POSITIVE_WORDS.includes(d.toLowerCase()));
    if (known) {
      pos = known;
      note = `"${pos}" counts as positive`;
    } else {
      // the rarer value (churn is usually the minority); the first in sort order on a tie
      pos = [...distinct].sort((a, b) => counts.get(a)! - counts.get(b)! || a.localeCompare(b))[0]!;
      note = `"${pos}" counts as positive (the rarer value; use --positive to choose)`;
    }
  }
  const negative = distinct.length === 2 ? distinct.find((d) => d !== pos)! : `not ${pos}`;
  const keep = values.length - dropped.length;
  const y = new Float64Array(keep);
  let k = 0;
  for (const v of values) if (!isBlank(v)) y[k++] = v.trim() === pos ? 1 : 0;
  return { y, positive: pos, negative, droppedRows: dropped, note };
}
