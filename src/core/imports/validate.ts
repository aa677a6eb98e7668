// Per-row validation: each mapped cell through its field's normaliser, required
// fields present, duplicate keys within the file rejected (naming the earlier
// row). A valid row becomes one CSV line for the staging table's COPY.
import { createHash } from 'node:crypto';
import type { EntitySpec, FieldSpec } from './entities.ts';
import type { Mapping } from './mapping.ts';
import { excelSerialToDateTime, RowError, wallClock } from './normalize.ts';
import type { Cell, SourceRow } from './reader.ts';

export interface RowIssue {
  row: number;
  column: string;
  value: string;
  reason: string;
}

export interface LoadColumn {
  name: string;
  sqlType: FieldSpec['sqlType'] | 'jsonb';
}

/**
 * Remembers keys seen in this file without keeping the keys: a 64-bit hash of
 * each, with the row it came from, in an open-addressing table of typed
 * arrays (12 bytes a slot). Two different keys sharing a 64-bit hash is
 * possible in principle (about one chance in a million for 10 million rows).
 *
 * It fills to 85 % and then grows by half (not doubling): while growing both
 * tables are alive, so the peak is 2.5 times the old table instead of 3. A
 * ~1 GB orders file (15M keys) ends at 19M slots = 230 MB, peaking at 383 MB
 * during its last growth (doubling at 75 % reached 400 MB + 200 MB).
 */
export class KeyIndex {
  #h1: Uint32Array;
  #h2: Uint32Array;
  #val: Uint32Array;
  #cap: number;
  #size = 0;
  constructor(capacity = 1 << 16) {
    this.#cap = capacity;
    this.#h1 = new Uint32Array(capacity);
    this.#h2 = new Uint32Array(capacity);
    this.#val = new Uint32Array(capacity);
  }
  /** Keys stored. */
  get size(): number {
    return this.#size;
  }
  /** Slots allocated (12 bytes each). */
  get capacity(): number {
    return this.#cap;
  }
  static hash(s: string): [number, number] {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    return [a >>> 0, b >>> 0];
  }
  #slot(a: number, b: number): number {
    let i = a % this.#cap;
    for (;;) {
      if (this.#val[i] === 0 || (this.#h1[i] === a && this.#h2[i] === b)) return i;
      i = i + 1 === this.#cap ? 0 : i + 1;
    }
  }
  /** The same hash over bytes (as latin1 text: each byte one character). */
  static hashBytes(buf: Uint8Array, from: number, to: number): [number, number] {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = from; i < to; i++) {
      const c = buf[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    return [a >>> 0, b >>> 0];
  }
  /** The value stored under a hash pair, or 0. */
  getHash(a: number, b: number): number {
    return this.#val[this.#slot(a, b)]!;
  }
  /** Stores a non-zero value under a hash pair. */
  setHash(a: number, b: number, value: number): void {
    const i = this.#slot(a, b);
    if (this.#val[i] === 0) this.#size++;
    this.#h1[i] = a;
    this.#h2[i] = b;
    this.#val[i] = value;
    if (this.#size > this.#cap * 0.85) this.#grow();
  }
  /** The value stored for key, or 0. */
  get(key: string): number {
    const [a, b] = KeyIndex.hash(key);
    return this.#val[this.#slot(a, b)]!;
  }
  /** Stores a non-zero value for key. */
  set(key: string, value: number): void {
    const [a, b] = KeyIndex.hash(key);
    const i = this.#slot(a, b);
    if (this.#val[i] === 0) this.#size++;
    this.#h1[i] = a;
    this.#h2[i] = b;
    this.#val[i] = value;
    if (this.#size > this.#cap * 0.85) this.#grow();
  }
  #grow(): void {
    const [h1, h2, val] = [this.#h1, this.#h2, this.#val];
    const cap = Math.ceil(this.#cap * 1.5);
    this.#cap = cap;
    this.#h1 = new Uint32Array(cap);
    this.#h2 = new Uint32Array(cap);
    this.#val = new Uint32Array(cap);
    for (let j = 0; j < h1.length; j++) {
      if (val[j] === 0) continue;
      const i = this.#slot(h1[j]!, h2[j]!);
      this.#h1[i] = h1[j]!;
      this.#h2[i] = h2[j]!;
      this.#val[i] = val[j]!;
    }
  }
}

function csvField(v: string | null): string {
  if (v === null) return '';
  if (v === '') return '""';
  if (/[",\r\n]/.test(v) || v.trim() !== v) return `"${v.replaceAll('"', '""')}"`;
  return v;
}

function cellText(c: Cell, field: FieldSpec | undefined, xlsx: boolean): string {
  if (c === null) return '';
  if (c instanceof Date) {
    const w = wallClock(c);
    return field?.sqlType === 'date' ? w.slice(0, 10) : w;
  }
  if (typeof c === 'number') {
    if (xlsx && field && (field.sqlType === 'timestamptz' || field.sqlType === 'date')) {
      const w = excelSerialToDateTime(c);
      return field.sqlType === 'date' ? w.slice(0, 10) : w;
    }
    return Number.isInteger(c) ? String(c) : String(Number(c.toFixed(10)));
  }
  return c;
}

export interface CheckedRow {
  line: string;
  customerId: string | null;
}

export interface RowChecker {
  columns: LoadColumn[];
  check(row: SourceRow): { ok: CheckedRow } | { issues: RowIssue[] };
}

/** A file column mapped to a field: its index in the row, the field, the header as written. */
export interface MappedColumn {
  col: number;
  field: FieldSpec;
  header: string;
}

/** The mapped columns in the entity's field order (the order of the load columns and of a row's issues). */
export function mappedColumns(spec: EntitySpec, mapping: Mapping, headers: readonly string[]): MappedColumn[] {
  const byName = new Map(spec.fields.map((f) => [f.name, f]));
  return [...mapping.fields.entries()]
    .map(([col, name]) => ({ col, field: byName.get(name)!, header: headers[col]! }))
    .sort((a, b) => spec.fields.indexOf(a.field) - spec.fields.indexOf(b.field));
}

/**
 * `dedupe: false` leaves duplicate keys to the caller: the raw CSV path checks
 * only some rows here and finds duplicates among all of them in SQL.
 */
export function rowChecker(
  spec: EntitySpec,
  mapping: Mapping,
  headers: readonly string[],
  format: 'csv' | 'xlsx',
  opts: { dedupe?: boolean } = {},
): RowChecker {
  const dedupe = opts.dedupe ?? true;
  const mapped = mappedColumns(spec, mapping, headers);
  const mappedNames = new Set(mapped.map((m) => m.field.name));
  const hashKey = spec.hashKey && !spec.key.every((k) => mappedNames.has(k));
  const lineNumbers = spec.lineNumbers && !mappedNames.has('line_no');
  const attrCols = [...mapping.attributes.entries()];

  const columns: LoadColumn[] = [];
  if (hashKey) columns.push({ name: spec.key[0]!, sqlType: 'text' });
  for (const m of mapped) columns.push({ name: m.field.name, sqlType: m.field.sqlType });
  if (lineNumbers) columns.push({ name: 'line_no', sqlType: 'integer' });
  if (attrCols.length > 0) columns.push({ name: 'attributes', sqlType: 'jsonb' });

  const seen = new KeyIndex();
  const linesPerOrder = lineNumbers ? new KeyIndex() : null;
  const xlsx = format === 'xlsx';
  const keyIdx = spec.key.map((k) => mapped.findIndex((m) => m.field.name === k));
  const custIdx = mapped.findIndex((m) => m.field.name === 'customer_id');
  const orderIdx = mapped.findIndex((m) => m.field.name === 'order_id');

  return {
    columns,
    check(row) {
      if (row.problem) return { issues: [{ row: row.rowNo, column: '', value: '', reason: row.problem }] };
      const issues: RowIssue[] = [];
      const values: (string | null)[] = new Array(mapped.length);
      for (let i = 0; i < mapped.length; i++) {
        const m = mapped[i]!;
        const cell = row.cells[m.col] ?? null;
        let raw: string;
        try {
          raw = cellText(cell, m.field, xlsx);
        } catch (e) {
          issues.push({ row: row.rowNo, column: m.header, value: String(cell), reason: (e as Error).message });
          continue;
        }
        if (raw.trim() === '') {
          if (m.field.required) issues.push({ row: row.rowNo, column: m.header, value: '', reason: `${m.field.name} is required` });
          values[i] = m.field.whenEmpty ?? null;
          continue;
        }
        try {
          values[i] = m.field.normalize ? m.field.normalize(raw) : raw;
        } catch (e) {
          if (!(e instanceof RowError)) throw e;
          issues.push({ row: row.rowNo, column: m.header, value: raw, reason: e.message });
        }
      }
      // Lines are numbered per order in file order, rejected rows included, so
      // fixing a bad row and importing again does not renumber the others.
      let lineNo: string | null = null;
      if (linesPerOrder) {
        const order = values[orderIdx] ?? '';
        const n = linesPerOrder.get(order) + 1;
        linesPerOrder.set(order, n);
        lineNo = String(n);
      }
      if (issues.length === 0 && spec.oneOf) {
        const has = spec.oneOf.some((f) => {
          const i = mapped.findIndex((m) => m.field.name === f);
          return i >= 0 && values[i] !== null;
        });
        if (!has) issues.push({ row: row.rowNo, column: '', value: '', reason: `a row needs ${spec.oneOf.join(' or ')}` });
      }
      if (issues.length > 0) return { issues };

      let attrs: string | null = null;
      if (attrCols.length > 0) {
        const o: Record<string, string | number> = {};
        for (const [col, name] of attrCols) {
          const c = row.cells[col] ?? null;
          if (c === null) continue;
          if (typeof c === 'number') o[name] = c;
          else {
            const t = c instanceof Date ? wallClock(c) : c.trim();
            if (t !== '') o[name] = t;
          }
        }
        attrs = JSON.stringify(o);
      }

      // The row's key: given, or a hash of the row (events), or order + line number.
      let key: string;
      let generated: string | null = null;
      if (hashKey) {
        generated = `imp_${createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32)}`;
        key = generated;
      } else {
        key = keyIdx.map((i) => (i >= 0 ? (values[i] ?? '') : '')).join('\u0000');
      }
      if (lineNo !== null) key = `${values[orderIdx] ?? ''}\u0000${lineNo}`;
      const earlier = dedupe ? seen.get(key) : 0;
      if (earlier !== 0) {
        const what = hashKey ? 'the same event as' : `the same ${spec.key.join(' + ')} as`;
        return {
          issues: [
            {
              row: row.rowNo,
              column: hashKey ? '' : mapped[keyIdx[0]!]?.header ?? '',
              value: hashKey ? '' : key.replaceAll('\u0000', ' / '),
              reason: `duplicate: ${what} row ${earlier} of this file (the earlier row is kept)`,
            },
          ],
        };
      }
      if (dedupe) seen.set(key, row.rowNo);

      const parts: string[] = [];
      if (hashKey) parts.push(generated!);
      for (const v of values) parts.push(csvField(v));
      if (linesPerOrder) parts.push(lineNo!);
      if (attrs !== null) parts.push(csvField(attrs));
      return { ok: { line: `${parts.join(',')}\n`, customerId: custIdx >= 0 ? (values[custIdx] ?? null) : null } };
    },
  };
}
