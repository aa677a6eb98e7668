// Turning a table of text cells into a numeric matrix: id-like and constant
// columns dropped, numbers kept (blanks → NaN or the median, with a missing
// indicator), categories one-hot encoded with rare levels pooled into "other".
// Every automatic decision is written down in `decisions`.
import type { Table } from './dataset.ts';
import { isBlank, parseNumber } from './dataset.ts';
import { type Matrix, matrix } from './matrix.ts';

export interface PrepOptions {
  /** most one-hot columns per categorical column, "other" included (default 20) */
  maxLevels?: number;
  /** a level seen fewer times than this goes to "other" (default: 1% of rows, at least 5) */
  minLevelCount?: number;
  /** columns left out by the caller (e.g. the label) */
  exclude?: string[];
}

/** What one matrix column means, for reports and rules. */
export interface FeatureInfo {
  name: string;
  source: string;
  kind: 'numeric' | 'level' | 'other' | 'missing';
  level?: string;
  /** numeric with whole values only */
  integer?: boolean;
  /** a date, held as days since 1970-01-01 */
  date?: boolean;
}

const DATE = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Days since 1970-01-01 for an ISO-like date (yyyy-mm-dd, yyyy/m/d, with an optional time), NaN otherwise. */
export function parseDateDays(s: string): number {
  const m = DATE.exec(s.trim());
  if (!m) return Number.NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN;
  return Date.UTC(y, mo - 1, d) / 86_400_000;
}

export function formatDateDays(days: number): string {
  return new Date(Math.round(days) * 86_400_000).toISOString().slice(0, 10);
}

export interface ColumnPlan {
  name: string;
  index: number;
  kind: 'numeric' | 'categorical' | 'dropped';
  /** numeric read from dates (days since 1970-01-01) */
  date?: boolean;
  reason?: string;
  median?: number;
  mean?: number;
  std?: number;
  mode?: string;
  levels?: string[];
  other?: boolean;
  missingIndicator?: boolean;
}

export interface Prep {
  columns: ColumnPlan[];
  features: FeatureInfo[];
  decisions: string[];
}

const ID_NAME = /(^|[^a-z])(id|uuid|guid|key)$|^id([^a-z]|$)|编号|编码|^(序号|no\.?)$/i;
/** camelCase ids (customerID, userId), case-sensitive so "paid" or "valid" do not count */
const ID_CAMEL = /[a-z](Id|ID)$/;

export function fitPrep(t: Table, opts: PrepOptions = {}): Prep {
  const n = t.rows.length;
  const maxLevels = Math.max(2, opts.maxLevels ?? 20);
  const minCount = opts.minLevelCount ?? Math.max(5, Math.ceil(n * 0.01));
  const exclude = new Set(opts.exclude ?? []);
  const columns: ColumnPlan[] = [];
  const features: FeatureInfo[] = [];
  const decisions: string[] = [];
  for (const [index, name] of t.columns.entries()) {
    if (exclude.has(name)) continue;
    planColumn(name, index);
  }
  function planColumn(name: string, index: number): boolean {
    const cells = t.rows.map((r) => r[index] ?? '');
    const present = cells.filter((c) => !isBlank(c));
    const blanks = n - present.length;
    const distinct = new Set(present);
    let nums = present.map(parseNumber);
    let numeric = present.length > 0 && nums.every((v) => !Number.isNaN(v));
    let date = false;
    if (!numeric && present.length > 0) {
      const days = present.map(parseDateDays);
      if (days.every((v) => !Number.isNaN(v))) {
        nums = days;
        numeric = true;
        date = true;
      }
    }
    const integer = numeric && nums.every((v) => Number.isInteger(v));
    const drop = (reason: string): boolean => {
      columns.push({ name, index, kind: 'dropped', reason });
      decisions.push(`dropped "${name}": ${reason}`);
      return false;
    };
    if (distinct.size <= 1) return drop(distinct.size ? `constant (always ${[...distinct][0]})` : 'always blank');
    const unique = distinct.size === present.length && present.length >= Math.min(n, 20) * 0.9;
    if ((ID_NAME.test(name) || ID_CAMEL.test(name)) && distinct.size >= 0.5 * present.length && (!numeric || integer))
      return drop(`looks like an id (named like one, ${distinct.size} distinct values)`);
    if (unique && !numeric) return drop('looks like an id (a different text value on every row)');
    if (unique && integer) {
      const sorted = [...nums].sort((a, b) => a - b);
      if (sorted[sorted.length - 1]! - sorted[0]! === sorted.length - 1) return drop('looks like a row number (consecutive whole numbers, one per row)');
    }
    if (numeric) {
      const sorted = Float64Array.from(nums).sort();
      const h = sorted.length >> 1;
      const median = sorted.length % 2 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
      let s = 0;
      for (const v of sorted) s += v;
      const mean = s / sorted.length;
      let ss = 0;
      for (const v of sorted) ss += (v - mean) ** 2;
      const std = Math.sqrt(ss / Math.max(1, sorted.length - 1));
      columns.push({ name, index, kind: 'numeric', date, median, mean, std, missingIndicator: blanks > 0 });
      features.push({ name, source: name, kind: 'numeric', integer, date });
      if (date) decisions.push(`"${name}": read as dates (days since 1970-01-01; rules show dates)`);
      if (blanks > 0) {
        features.push({ name: `${name} is missing`, source: name, kind: 'missing' });
        decisions.push(`"${name}": ${blanks} blank value${blanks > 1 ? 's' : ''} filled with the median ${date ? formatDateDays(median) : fmt(median)} (trees see them as missing), plus a "missing" indicator`);
      }
      return true;
    }
    const counts = new Map<string, number>();
    for (const c of present) counts.set(c, (counts.get(c) ?? 0) + 1);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const mode = ranked[0]![0];
    let levels = ranked.filter(([, c]) => c >= minCount).map(([l]) => l);
    let other = levels.length < ranked.length;
    if (levels.length > maxLevels - (other ? 1 : 0)) {
      levels = levels.slice(0, maxLevels - 1);
      other = true;
    }
    if (levels.length === 0) return drop(`no value occurs ${minCount} times or more`);
    // two values without pooling: one indicator column is enough
    const encoded = !other && levels.length === 2 ? [levels[1]!] : levels;
    columns.push({ name, index, kind: 'categorical', mode, levels: encoded, other, missingIndicator: blanks > 0 });
    for (const l of encoded) features.push({ name: `${name} = ${l}`, source: name, kind: 'level', level: l });
    if (other) {
      features.push({ name: `${name} = other`, source: name, kind: 'other' });
      decisions.push(`"${name}": ${ranked.length} categories; kept the ${levels.length} most frequent, the other ${ranked.length - levels.length} pooled into "other"`);
    } else decisions.push(`"${name}": categorical, one-hot encoded (${encoded.length} column${encoded.length > 1 ? 's' : ''})`);
    if (blanks > 0) {
      features.push({ name: `${name} is missing`, source: name, kind: 'missing' });
      decisions.push(`"${name}": ${blanks} blank value${blanks > 1 ? 's' : ''} filled with the most frequent value "${mode}", plus a "missing" indicator`);
    }
    return true;
  }
  return { columns, features, decisions };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

export interface TransformOptions {
  /** fill blanks in numeric columns with the median (for linear models); otherwise they stay NaN */
  impute?: boolean;
  /** subtract the mean and divide by the standard deviation of numeric columns */
  standardise?: boolean;
}

/** The matrix for a table with the same columns (by name). */
export function applyPrep(p: Prep, t: Table, opts: TransformOptions = {}): Matrix {
  const x = matrix(t.rows.length, p.features.length, p.features.map((f) => f.name));
  const at = new Map(t.columns.map((c, i) => [c, i]));
  const d = x.cols;
  for (let i = 0; i < t.rows.length; i++) {
    const r = t.rows[i]!;
    let j = 0;
    for (const c of p.columns) {
      if (c.kind === 'dropped') continue;
      const cell = r[at.get(c.name) ?? -1] ?? '';
      const blank = isBlank(cell);
      if (c.kind === 'numeric') {
        let v = blank ? Number.NaN : c.date ? parseDateDays(cell) : parseNumber(cell);
        if (Number.isNaN(v) && opts.impute) v = c.median!;
        if (opts.standardise && !Number.isNaN(v)) v = (v - c.mean!) / (c.std! || 1);
        x.data[i * d + j++] = v;
      } else {
        const value = blank ? c.mode! : cell.trim();
        let known = false;
        for (const l of c.levels!) {
          const hit = value === l;
          known ||= hit;
          x.data[i * d + j++] = hit ? 1 : 0;
        }
        if (c.other) x.data[i * d + j++] = known || c.levels!.length === 0 || c.levels!.includes(value) ? 0 : 1;
        // a two-level column encoded as one indicator: the first level is the zero
      }
      if (c.missingIndicator) x.data[i * d + j++] = blank ? 1 : 0;
    }
  }
  return x;
}
