// The raw CSV path: a well-formed comma-separated file goes to the store as
// bytes — COPY … FORMAT csv into a text staging table with the row number —
// instead of being parsed and checked cell by cell in Node (about 60k rows per
// CPU-second there). SQL then sorts the rows: a cell written in one of the
// plain spellings (FieldSpec.fast) is converted in SQL; any row with another
// spelling, an empty required cell or a bad value goes back to Node and
// through the very same normalisers and messages as the Node path (rowChecker),
// so both paths store the same rows and report the same rejected rows.
// Duplicate keys within the file are found in SQL among the valid rows, the
// first row kept, as rowChecker does. The valid rows end in the ordinary
// staging table, from which the import writes them as before.
//
// COPY refuses a file as a whole (a ragged row, text after a closing quote,
// bad UTF-8, a NUL byte); the caller then rolls back to a savepoint and runs
// the Node path, which reports each bad row. Quotes that csv-parse and
// PostgreSQL would read differently (a quote inside an unquoted field), a
// record longer than 4 MB, a file ending inside quotes and a line holding only
// `\.` (COPY's end-of-data mark) are caught here before they reach COPY.
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import iconv from 'iconv-lite';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { CsvChunk, Session } from '../../db/store.ts';
import type { EntitySpec, FastRule } from './entities.ts';
import type { FigureTally } from './figures.ts';
import type { Mapping } from './mapping.ts';
import type { Encoding, Input, Source } from './reader.ts';
import { KeyIndex, type MappedColumn, type RowChecker, type RowIssue } from './validate.ts';

export const RAW = 'liuke_import_raw';
/** Row numbers RowSorter noted. */
const BAD = 'liuke_import_bad';
/** Those rows, blank ones left out. */
const BAD_ROWS = 'liuke_import_bad_rows';
const ISSUES = 'liuke_import_issues';

/** The file cannot take the raw path; the Node path reads it instead. */
export class NotForRawPath extends Error {}

const MAX_RECORD = 4 * 1024 * 1024;
/** A direct load gives up (the raw path takes the file) when more than this many bytes of records are left for Node. */
const MAX_BAD_BYTES = 64 * 1024 * 1024;
/** Keys RowSorter remembers at most (about 120 MB of hashes, 300 MB while its table last grows). */
const MAX_TRACKED_KEYS = 8_000_000;

/** Whether the raw path can take this file: a CSV by path, comma-separated, every mapped field with a SQL rule. */
export function rawPathFits(spec: EntitySpec, mapping: Mapping, mapped: readonly MappedColumn[], source: Source, input: Input): boolean {
  if (process.env.LIUKE_IMPORT_RAW === '0') return false;
  if (source.format !== 'csv' || source.delimiter !== ',' || !('path' in input)) return false;
  if (spec.hashKey || spec.lineNumbers || spec.oneOf || mapping.attributes.size > 0) return false;
  if (!spec.key.every((k) => mapped.some((m) => m.field.name === k))) return false;
  return mapped.every((m) => m.field.fast !== undefined);
}

/**
 * The file's records after the header, as UTF-8 pieces that each end at a
 * record boundary (PGlite runs one COPY per few pieces). Throws NotForRawPath
 * for anything COPY would read differently from csv-parse.
 */
export async function* recordPieces(path: string, encoding: Encoding, onBytes?: (n: number) => void, onPiece?: (piece: Buffer) => void): AsyncGenerator<Buffer> {
  const decoder = encoding === 'utf8' ? null : iconv.getDecoder(encoding);
  let read = 0;
  let inQuote = false;
  /** A quote ended the previous piece while inside quotes: escaped or closing, decided by the next byte. */
  let quoteAtEnd = false;
  /** The byte before the current piece (for "does this quote open a field"). */
  let prev = 0x0a;
  let carry: Buffer | null = null;
  let header = true;
  const NL = 0x0a;
  const QUOTE = 0x22;
  const COMMA = 0x2c;
  const CR = 0x0d;
  const unsafe = (why: string) => new NotForRawPath(why);

  /** Checks one piece's quotes; returns the offset just after its last record boundary (0: none). */
  const scan = (buf: Buffer): number => {
    let i = 0;
    let boundary = 0;
    if (quoteAtEnd) {
      quoteAtEnd = false;
      const b = buf[0];
      if (b === QUOTE) i = 1;
      else if (b === COMMA || b === CR || b === NL) inQuote = false;
      else throw unsafe('text after a closing quote');
    }
    const n = buf.length;
    while (i < n) {
      if (!inQuote) {
        const q = buf.indexOf(QUOTE, i);
        const end = q === -1 ? n : q;
        if (end > i) {
          const nl = buf.lastIndexOf(NL, end - 1);
          if (nl >= i) boundary = nl + 1;
        }
        if (q === -1) break;
        const before = q > 0 ? buf[q - 1] : prev;
        // csv-parse (relax_quotes) keeps a quote inside an unquoted field as text; COPY would start quoting there.
        if (before !== COMMA && before !== NL) throw unsafe('a quote inside an unquoted field');
        inQuote = true;
        i = q + 1;
      } else {
        const q = buf.indexOf(QUOTE, i);
        if (q === -1) break;
        if (q + 1 === n) {
          quoteAtEnd = true;
          i = n;
          break;
        }
        const b = buf[q + 1];
        if (b === QUOTE) i = q + 2;
        else if (b === COMMA || b === CR || b === NL) {
          inQuote = false;
          i = q + 1;
        } else throw unsafe('text after a closing quote');
      }
    }
    prev = n > 0 ? buf[n - 1]! : prev;
    return boundary;
  };

  /** A line that is exactly `\.` ends COPY's input early: never send one. */
  const checkEndMark = (piece: Buffer) => {
    let at = piece.indexOf('\\.');
    while (at !== -1) {
      const after = piece[at + 2];
      if ((at === 0 || piece[at - 1] === NL) && (after === undefined || after === NL || after === CR)) throw unsafe('a line holding only \\.');
      at = piece.indexOf('\\.', at + 1);
    }
  };

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      onBytes?.(read);
      const buf = decoder ? Buffer.from(decoder.write(chunk), 'utf8') : chunk;
      if (buf.length === 0) continue;
      const cut = scan(buf);
      if (cut === 0) {
        carry = carry ? Buffer.concat([carry, buf]) : buf;
        if (carry.length > MAX_RECORD) throw unsafe('a record longer than 4 MB');
        continue;
      }
      let piece = carry ? Buffer.concat([carry, buf.subarray(0, cut)]) : buf.subarray(0, cut);
      carry = cut < buf.length ? buf.subarray(cut) : null;
      if (header) {
        // The header record was read by openSource; the data starts after it.
        header = false;
        const end = firstBoundary(piece);
        piece = piece.subarray(end);
        if (piece.length === 0) continue;
      }
      checkEndMark(piece);
      onPiece?.(piece);
      yield piece;
    }
    if (decoder) {
      const rest = decoder.end();
      if (rest) {
        const b = Buffer.from(rest, 'utf8');
        scan(b);
        carry = carry ? Buffer.concat([carry, b]) : b;
      }
    }
    if (inQuote && !quoteAtEnd) throw unsafe('the file ends inside quotes');
    if (carry && carry.length > 0) {
      let piece = carry;
      if (header) {
        // A file of a header and one unterminated record (or the header alone).
        header = false;
        const end = firstBoundary(piece);
        if (end === 0) return;
        piece = piece.subarray(end);
      }
      checkEndMark(piece);
      if (piece.length > 0) {
        onPiece?.(piece);
        yield piece;
      }
    }
  } finally {
    stream.destroy();
  }
}

/** Offset just after the first newline outside quotes (0 when there is none). */
/** A quoted record may span lines: its end is the first newline outside quotes from pos (buf.length: none). */
function quotedRecordEnd(buf: Buffer, pos: number): number {
  let inQ = false;
  let i = pos;
  for (; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x22) inQ = !inQ;
    else if (b === 0x0a && !inQ) break;
  }
  return i;
}

function firstBoundary(buf: Buffer): number {
  let inQuote = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x22) inQuote = !inQuote;
    else if (b === 0x0a && !inQuote) return i + 1;
  }
  return 0;
}

/**
 * Looks at each record's bytes as they go by (on Node's thread, while the
 * store's one backend is busy with COPY) and notes the row numbers that SQL
 * must not convert: a quoted record, a blank one, a field count other than
 * the header's, or a mapped cell not in a plain spelling (FieldSpec.fast).
 * Those rows go through rowChecker; every other row is converted in SQL with
 * plain casts, which give what the normalisers give for these spellings.
 */
/**
 * A direct load (copyDirect): how a plain record becomes a line of the
 * entity's own table. `cols` lists the file columns that are loaded, in file
 * order; the line is `prefix`, their converted cells, `suffix`.
 */
export interface DirectShape {
  prefix: Buffer;
  suffix: Buffer;
  cols: number[];
}

export class RowSorter {
  /** Row number of the next record (the header is row 1). */
  #rn = 2;
  #suspects: Int32Array[] = [];
  #cur = new Int32Array(4096);
  #n = 0;
  #rules: (CellRule | null)[];
  readonly width: number;
  /** The key's column when the key is one field: its plain cells are remembered (as hashes) to tell whether the file can hold a duplicate. */
  #keyCol: number;
  #keys: KeyIndex | null;
  /** Two plain rows may share a key (or the key is not one column, or keys are not tracked): SQL must look for duplicates. */
  maybeDuplicates = false;
  /** Where each cell of the record #plain last passed starts and ends. */
  #from: Int32Array;
  #to: Int32Array;
  /** The longest replacement of a cell (an enum's value, a default for an empty cell), quoted. */
  #longest = 0;
  /** Direct load: the records for Node to check, each as `rn,` and the record (for RAW). */
  #bad: Buffer[] = [];
  #badBytes = 0;
  /** Direct load: whether records end in CR LF (decided by the first one; COPY refuses a mix). */
  #crlf: boolean | null = null;
  /** Direct load of orders: each plain record's figures go to the tally (figures.ts); the file columns it reads. */
  #tally: { tally: FigureTally; customer: number; time: number; amount: number; status: number; paid: Map<number, [Buffer, boolean][]>; emptyPaid: boolean } | null = null;
  /**
   * `trackKeys: false` — a first load into a workspace without rows, where the
   * rebuilt primary key finds duplicates anyway: no memory spent on keys.
   */
  constructor(width: number, mapped: readonly MappedColumn[], key: readonly string[], trackKeys = true) {
    this.width = width;
    this.#rules = Array.from({ length: width }, () => null);
    for (const m of mapped) {
      const rule = m.field.fast!;
      const words = new Map<number, [Buffer, Buffer | null][]>();
      if (typeof rule === 'object') {
        for (const [w, v] of rule.words) {
          const b = Buffer.from(w, 'utf8');
          words.set(b.length, [...(words.get(b.length) ?? []), [b, csvConst(v)]]);
        }
      }
      this.#rules[m.col] = { rule, required: m.field.required === true, words, empty: csvConst(m.field.whenEmpty ?? null) };
    }
    this.#keyCol = key.length === 1 && trackKeys ? (mapped.find((m) => m.field.name === key[0])?.col ?? -1) : -1;
    this.#keys = this.#keyCol >= 0 ? new KeyIndex(1 << 20) : null;
    if (this.#keyCol < 0) this.maybeDuplicates = true;
    this.#from = new Int32Array(width);
    this.#to = new Int32Array(width);
    for (const r of this.#rules) {
      if (!r) continue;
      this.#longest = Math.max(this.#longest, r.empty?.length ?? 0);
      for (const ws of r.words.values()) for (const [, v] of ws) this.#longest = Math.max(this.#longest, v?.length ?? 0);
    }
  }
  /**
   * Direct load of orders: tally each plain record's customer figures (figures.ts).
   * `status` -1: the file has no status column (every order is paid, the column's default).
   */
  tallyFigures(tally: FigureTally, cols: { customer: number; time: number; amount: number; status: number }): void {
    const paid = new Map<number, [Buffer, boolean][]>();
    let emptyPaid = true;
    const r = cols.status >= 0 ? this.#rules[cols.status] : null;
    if (r) {
      for (const [len, ws] of r.words) paid.set(len, ws.map(([w, v]) => [w, v?.toString() === 'paid']));
      emptyPaid = r.empty?.toString() === 'paid';
    }
    this.#tally = { tally, ...cols, paid, emptyPaid };
  }
  /** Records seen. */
  get records(): number {
    return this.#rn - 2;
  }
  /** The row numbers noted, in order. */
  *suspects(): Iterable<number> {
    for (const a of this.#suspects) yield* a;
    yield* this.#cur.subarray(0, this.#n);
  }
  #note(rn: number): void {
    if (this.#n === this.#cur.length) {
      this.#suspects.push(this.#cur);
      this.#cur = new Int32Array(65536);
      this.#n = 0;
    }
    this.#cur[this.#n++] = rn;
  }
  /** A piece of whole records (the last one may lack its newline). */
  inspect(buf: Buffer): void {
    let pos = 0;
    const n = buf.length;
    // The next quote at or after pos (n: none), looked up again only once passed: one scan a piece, not one a line.
    let q = -1;
    while (pos < n) {
      let nl = buf.indexOf(0x0a, pos);
      if (nl === -1) nl = n;
      if (q < pos) {
        q = buf.indexOf(0x22, pos);
        if (q === -1) q = n;
      }
      if (q < nl) {
        const i = quotedRecordEnd(buf, pos);
        this.#note(this.#rn++);
        pos = i + 1;
        continue;
      }
      const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      if (!this.#plain(buf, pos, end)) this.#note(this.#rn);
      this.#rn++;
      pos = nl + 1;
    }
  }
  /**
   * Direct load: the piece's plain records converted to lines of the entity's
   * table (see DirectShape); the others are kept for RAW (takeBad). Throws
   * NotForRawPath where COPY of the file as it is would have refused it but the
   * converted lines would not be (bad UTF-8, a NUL byte, a carriage return
   * inside a record or line ends of two kinds: they may sit in a column not
   * loaded), and when more than MAX_BAD_BYTES of records are left for Node.
   */
  transform(buf: Buffer, shape: DirectShape): Buffer {
    if (!isUtf8(buf) || buf.indexOf(0) !== -1) throw new NotForRawPath('bad UTF-8 or a NUL byte');
    const { prefix, suffix, cols } = shape;
    let cap = buf.length + 1024;
    let out = Buffer.allocUnsafe(cap);
    let w = 0;
    let pos = 0;
    const n = buf.length;
    let q = -1;
    let cr = -1;
    while (pos < n) {
      let nl = buf.indexOf(0x0a, pos);
      if (nl === -1) nl = n;
      if (q < pos) {
        q = buf.indexOf(0x22, pos);
        if (q === -1) q = n;
      }
      if (cr < pos) {
        cr = buf.indexOf(0x0d, pos);
        if (cr === -1) cr = n;
      }
      const rn = this.#rn++;
      if (q < nl) {
        // Quoted (may span lines): RAW and Node, as the record is.
        const i = quotedRecordEnd(buf, pos);
        if (i < n) this.#lineEnd(i > pos && buf[i - 1] === 0x0d);
        this.#keepBad(rn, buf.subarray(pos, Math.min(i + 1, n)));
        pos = i + 1;
        continue;
      }
      const end = nl < n && nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      if (cr < end) throw new NotForRawPath('a carriage return inside a record');
      if (nl < n) this.#lineEnd(end < nl);
      if (!this.#plain(buf, pos, end)) {
        this.#keepBad(rn, buf.subarray(pos, Math.min(nl + 1, n)));
        pos = nl + 1;
        continue;
      }
      // The line: at most the record, the prefix and suffix, and per cell a comma and its longest replacement.
      const need = w + (end - pos) + prefix.length + suffix.length + cols.length * (this.#longest + 1);
      if (need > cap) {
        cap = Math.max(need, cap * 2);
        const grown = Buffer.allocUnsafe(cap);
        out.copy(grown, 0, 0, w);
        out = grown;
      }
      // Byte loops and TypedArray#set: Buffer#copy costs a native call per cell.
      out.set(prefix, w);
      w += prefix.length;
      for (let j = 0; j < cols.length; j++) {
        const col = cols[j]!;
        if (j > 0) out[w++] = 0x2c;
        const a = this.#from[col]!;
        const b = this.#to[col]!;
        const r = this.#rules[col]!;
        let v: Buffer | null = null;
        if (a === b) v = r.empty;
        else if (r.words.size > 0) v = wordValue(buf, a, b, r);
        else {
          if (b - a > 32) {
            out.set(buf.subarray(a, b), w);
            w += b - a;
          } else for (let k = a; k < b; k++) out[w++] = buf[k]!;
          continue;
        }
        if (v !== null) for (let k = 0; k < v.length; k++) out[w++] = v[k]!;
      }
      out.set(suffix, w);
      w += suffix.length;
      if (this.#tally) this.#tallyRecord(buf);
      pos = nl + 1;
    }
    return out.subarray(0, w);
  }
  /** The plain record #plain last passed, into the tally. */
  #tallyRecord(buf: Buffer): void {
    const t = this.#tally!;
    const from = this.#from;
    const to = this.#to;
    let paid = true;
    if (t.status >= 0) {
      const a = from[t.status]!;
      const b = to[t.status]!;
      if (a === b) paid = t.emptyPaid;
      else {
        paid = false;
        next: for (const [w, p] of t.paid.get(b - a) ?? []) {
          for (let k = 0; k < w.length; k++) if (buf[a + k] !== w[k]) continue next;
          paid = p;
          break;
        }
      }
    }
    t.tally.add(buf, from[t.customer]!, to[t.customer]!, from[t.time]!, to[t.time]!, from[t.amount]!, to[t.amount]!, paid);
  }
  #lineEnd(crlf: boolean): void {
    if (this.#crlf === null) this.#crlf = crlf;
    else if (this.#crlf !== crlf) throw new NotForRawPath('line ends of two kinds');
  }
  #keepBad(rn: number, record: Buffer): void {
    const line = Buffer.concat([Buffer.from(`${rn},`), record]);
    this.#badBytes += line.length;
    if (this.#badBytes > MAX_BAD_BYTES) throw new NotForRawPath('too many records for Node to check');
    this.#bad.push(line);
  }
  /** Direct load: the records left for Node, as COPY input for RAW (rn first). */
  takeBad(): Buffer[] {
    const b = this.#bad;
    this.#bad = [];
    return b;
  }
  /** Whether the unquoted record [a, b) has the header's width, is not blank, and every mapped cell is plain. */
  #plain(buf: Buffer, a: number, b: number): boolean {
    // A byte loop: for records of a few dozen bytes, cheaper than a native indexOf per field.
    let start = a;
    let col = 0;
    let blank = true;
    let keyFrom = -1;
    let keyTo = -1;
    for (let i = a; i <= b; i++) {
      if (i < b && buf[i] !== 0x2c) continue;
      if (col >= this.width) return false;
      if (i > start) blank = false;
      this.#from[col] = start;
      this.#to[col] = i;
      const r = this.#rules[col];
      if (r && !plainCell(buf, start, i, r)) return false;
      if (col === this.#keyCol) {
        keyFrom = start;
        keyTo = i;
      }
      col++;
      start = i + 1;
    }
    if (col !== this.width || blank) return false;
    const keys = this.#keys;
    if (keyFrom >= 0 && keys) {
      // A plain key cell is the key as stored (no space to trim): its bytes identify it.
      const [h1, h2] = KeyIndex.hashBytes(buf, keyFrom, keyTo);
      if (keys.getHash(h1, h2) !== 0 || keys.size >= MAX_TRACKED_KEYS) {
        // A repeat, or so many keys that SQL's one hash aggregate is cheaper than the memory: SQL looks.
        this.maybeDuplicates = true;
        this.#keys = null;
      } else keys.setHash(h1, h2, 1);
    }
    return true;
  }
}

interface CellRule {
  rule: FastRule;
  required: boolean;
  /** Enum words as UTF-8, by byte length, each with what a direct load writes for it (null: NULL). */
  words: Map<number, [Buffer, Buffer | null][]>;
  /** What a direct load writes for an empty cell (null: NULL). */
  empty: Buffer | null;
}

/** The value a direct load writes for the enum word [a, b) (plainCell found it). */
function wordValue(buf: Buffer, a: number, b: number, r: CellRule): Buffer | null {
  next: for (const [w, v] of r.words.get(b - a) ?? []) {
    for (let k = 0; k < w.length; k++) if (buf[a + k] !== w[k]) continue next;
    return v;
  }
  throw new Error('not one of the words');
}

/** A constant as a CSV field COPY reads back as the same text. */
function csvConst(v: string | null): Buffer | null {
  if (v === null) return null;
  return Buffer.from(v === '' || /[",\r\n]/.test(v) || v.trim() !== v ? `"${v.replaceAll('"', '""')}"` : v, 'utf8');
}

const digit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
const num2 = (buf: Buffer, i: number) => (buf[i]! - 0x30) * 10 + buf[i + 1]! - 0x30;

/** The cell [a, b) in a spelling SQL converts exactly as the field's normaliser does. */
function plainCell(buf: Buffer, a: number, b: number, r: CellRule): boolean {
  if (a === b) return !r.required;
  const rule = r.rule;
  if (rule === 'text') return !spaceAt(buf, a, b, true) && !spaceAt(buf, a, b, false);
  if (rule === 'amount') {
    let i = a;
    while (i < b && digit(buf[i])) i++;
    const whole = i - a;
    if (whole < 1 || whole > 11) return false;
    if (i === b) return true;
    if (buf[i] !== 0x2e) return false;
    const frac = b - i - 1;
    if (frac < 1 || frac > 6) return false;
    for (let j = i + 1; j < b; j++) if (!digit(buf[j])) return false;
    return true;
  }
  if (rule === 'timestamptz') {
    const len = b - a;
    if (len !== 10 && len !== 16 && len !== 19) return false;
    if (!digit(buf[a]) || !digit(buf[a + 1]) || !digit(buf[a + 2]) || !digit(buf[a + 3])) return false;
    if (!digit(buf[a + 5]) || !digit(buf[a + 6]) || !digit(buf[a + 8]) || !digit(buf[a + 9])) return false;
    if (buf[a + 4] !== 0x2d || buf[a + 7] !== 0x2d) return false;
    const y = num2(buf, a) * 100 + num2(buf, a + 2);
    const m = num2(buf, a + 5);
    const d = num2(buf, a + 8);
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) return false;
    if (len === 10) return true;
    if (buf[a + 10] !== 0x20 || buf[a + 13] !== 0x3a) return false;
    if (!digit(buf[a + 11]) || !digit(buf[a + 12]) || !digit(buf[a + 14]) || !digit(buf[a + 15])) return false;
    if (num2(buf, a + 11) > 23 || num2(buf, a + 14) > 59) return false;
    if (len === 16) return true;
    if (buf[a + 16] !== 0x3a || !digit(buf[a + 17]) || !digit(buf[a + 18])) return false;
    return num2(buf, a + 17) <= 59;
  }
  const same = r.words.get(b - a);
  if (!same) return false;
  next: for (const [w] of same) {
    for (let k = 0; k < w.length; k++) if (buf[a + k] !== w[k]) continue next;
    return true;
  }
  return false;
}

function daysIn(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * Whether the cell starts (or ends) with a character String.prototype.trim()
 * removes — or a control character, to be safe. Only lead bytes of the
 * multi-byte spaces (U+00A0, U+1680, U+2000–U+205F, U+3000, U+FEFF) are decoded.
 */
function spaceAt(buf: Buffer, a: number, b: number, first: boolean): boolean {
  let i = first ? a : b - 1;
  if (!first) while (i > a && (buf[i]! & 0xc0) === 0x80) i--;
  const lead = buf[i]!;
  if (lead <= 0x20 || lead === 0x7f) return true;
  if (lead < 0x80) return false;
  if (lead !== 0xc2 && lead !== 0xe1 && lead !== 0xe2 && lead !== 0xe3 && lead !== 0xef) return false;
  const ch = buf.toString('utf8', i, Math.min(b, i + 4));
  const c = ch.codePointAt(0)!;
  return String.fromCodePoint(c).trim() === '';
}

/** SQL converting one mapped cell of RAW r (a row RowSorter passed): the value, and the join an enum needs. */
function cellSql(m: MappedColumn, k: number): { value: RawBuilder<unknown>; join?: RawBuilder<unknown> } {
  const c = sql.raw(`r.c${m.col}`);
  const f = m.field;
  const rule = f.fast!;
  const whenEmpty = f.whenEmpty === undefined ? sql`null` : sql`${f.whenEmpty}::text`;
  if (rule === 'text') return { value: sql`coalesce(${c}, ${whenEmpty})` };
  if (rule === 'amount') return { value: sql`coalesce(${c}, ${whenEmpty})::numeric` };
  if (rule === 'timestamptz') return { value: sql`coalesce(${c}, ${whenEmpty})::timestamptz` };
  const alias = sql.raw(`e${k}`);
  const rows = [...rule.words].map(([w, v]) => sql`(${w}::text, ${v}::text)`);
  return {
    value: sql`case when ${c} is null then ${whenEmpty} else ${alias}.v end`,
    join: sql`left join (values ${sql.join(rows)}) ${alias}(w, v) on ${alias}.w = ${c}`,
  };
}

export interface RawResult {
  /** Rows read (blank rows are skipped, as the Node path does). */
  rowsRead: number;
  /** Whether two staged rows may share a key (else findDuplicates has nothing to find). */
  maybeDuplicates: boolean;
  /** Rows now in the staging table. */
  staged: number;
}

/** Step 1: the file's records into RAW. Any error here means: not for the raw path (the caller rolls back). */
export async function copyRaw(
  s: Session,
  o: {
    width: number;
    mapped: readonly MappedColumn[];
    key: readonly string[];
    /** Remember keys to tell whether the file may repeat one (see RowSorter). */
    trackKeys: boolean;
    path: string;
    encoding: Encoding;
    onBytes?: ((n: number) => void) | undefined;
  },
): Promise<RowSorter> {
  const cols = Array.from({ length: o.width }, (_, i) => `c${i}`);
  // The row number a spreadsheet shows: the header is row 1, and COPY numbers records in file order.
  await sql
    .raw(`create temporary table ${RAW} (rn integer generated by default as identity (start with 2 cache 1000), ${cols.map((c) => `${c} text`).join(', ')}) on commit drop`)
    .execute(s.db);
  const sorter = new RowSorter(o.width, o.mapped, o.key, o.trackKeys);
  const copied = await s.copyCsv(
    RAW,
    cols,
    recordPieces(o.path, o.encoding, o.onBytes, (p) => sorter.inspect(p)),
  );
  // Both count records the same way, or the row numbers would not match: then the Node path.
  if (copied !== sorter.records) throw new NotForRawPath(`COPY read ${copied} records, the scan ${sorter.records}`);
  return sorter;
}

/**
 * A direct load: the file's plain records, converted in Node as they pass
 * (RowSorter.transform), go by COPY straight into the entity's table — the
 * store parses each value with the column's own input function, which is
 * what the raw path's casts do — and the other records into RAW (with their
 * row numbers) for checkSlowRows. For a first load into a table taken for the
 * import (keys dropped): no text stage written and read again. Any error: the
 * caller rolls back and takes the raw path. Returns the rows loaded.
 */
export async function copyDirect(
  s: Session,
  o: {
    width: number;
    mapped: readonly MappedColumn[];
    table: string;
    workspaceId: number;
    /** Columns every row gives the same value (as text): loaded as the column's default for the COPY. */
    extras: readonly { name: string; text: string }[];
    /** Orders: the plain records' customer figures are tallied here as they pass. */
    tally?: FigureTally | undefined;
    path: string;
    encoding: Encoding;
    onBytes?: ((n: number) => void) | undefined;
  },
): Promise<{ sorter: RowSorter; loaded: number }> {
  const cols = Array.from({ length: o.width }, (_, i) => `c${i}`);
  await sql.raw(`create temporary table ${RAW} (rn integer, ${cols.map((c) => `${c} text`).join(', ')}) on commit drop`).execute(s.db);
  const sorter = new RowSorter(o.width, o.mapped, [], false);
  if (o.tally) {
    const col = (name: string) => o.mapped.find((m) => m.field.name === name)?.col ?? -1;
    sorter.tallyFigures(o.tally, { customer: col('customer_id'), time: col('ordered_at'), amount: col('amount'), status: col('status') });
  }
  const loadedCols = [...o.mapped].sort((a, b) => a.col - b.col);
  const shape: DirectShape = {
    prefix: Buffer.from(`${o.workspaceId},`),
    suffix: Buffer.from('\n'),
    cols: loadedCols.map((m) => m.col),
  };
  const columns = ['workspace_id', ...loadedCols.map((m) => m.field.name)];
  async function* lines() {
    for await (const piece of recordPieces(o.path, o.encoding, o.onBytes)) {
      const out = sorter.transform(piece, shape);
      if (out.length > 0) yield out;
    }
  }
  const loaded = await copySharing(s, o.table, columns, o.extras, lines());
  const bad = sorter.takeBad();
  const slow = bad.length > 0 ? await s.copyCsv(RAW, ['rn', ...cols], bad) : 0;
  // Every record went one way or the other, or the row numbers would not match.
  if (loaded + slow !== sorter.records) throw new NotForRawPath(`COPY read ${loaded} + ${slow} records, the scan ${sorter.records}`);
  return { sorter, loaded };
}

/**
 * Step 2: RAW into the staging table (created with an rn column). The
 * rows RowSorter passed are converted in SQL in one pass; the others go
 * through rowChecker in Node: their issues to ISSUES, the valid ones to the
 * stage. Duplicate keys are left for findDuplicates.
 */
export async function sortRaw(
  s: Session,
  o: {
    mapped: readonly MappedColumn[];
    width: number;
    sorter: RowSorter;
    checker: RowChecker;
    stage: string;
    stageColumns: readonly string[];
  },
): Promise<RawResult> {
  const db = s.db;
  await sql`create temporary table ${sql.raw(BAD)} (rn integer) on commit drop`.execute(db);
  await s.copyCsv(BAD, ['rn'], pieces(o.sorter.suspects()));
  await sql.raw(`analyze ${BAD}`).execute(db);
  const cells = o.mapped.map((m, k) => cellSql(m, k));
  const joins = cells.flatMap((c) => (c.join ? [c.join] : []));
  const stageCols = o.stageColumns.map((c) => `"${c}"`).join(', ');
  const fast = await sql`
    insert into ${sql.raw(o.stage)} (rn, ${sql.raw(stageCols)})
    select r.rn, ${sql.join(cells.map((c) => c.value))}
    from ${sql.raw(RAW)} r ${sql.join(joins, sql` `)}
    where r.rn not in (select b.rn from ${sql.raw(BAD)} b)`.execute(db);
  const slow = await checkSlowRows(s, { ...o, onlyNoted: true });
  const staged = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(o.stage)}`.execute(db);
  // A row that became valid in Node may share its (normalised) key with any other.
  return {
    rowsRead: Number(fast.numAffectedRows ?? 0) + slow.rowsRead,
    staged: Number(staged.rows[0]?.n ?? 0),
    maybeDuplicates: o.sorter.maybeDuplicates || slow.valid > 0,
  };
}

/**
 * The rows of RAW that RowSorter noted (`onlyNoted`; else all of RAW, as a
 * direct load leaves it) through rowChecker in Node: each one's issues to
 * ISSUES, or its line to the stage. Blank rows are skipped. Returns the rows
 * read and how many were valid.
 */
export async function checkSlowRows(
  s: Session,
  o: { width: number; checker: RowChecker; stage: string; stageColumns: readonly string[]; onlyNoted: boolean },
): Promise<{ rowsRead: number; valid: number }> {
  const db = s.db;
  await sql`create temporary table ${sql.raw(ISSUES)} (rn integer, ord integer, col text, val text, reason text) on commit drop`.execute(db);
  const blank = sql.join(
    Array.from({ length: o.width }, (_, i) => sql`coalesce(${sql.raw(`r.c${i}`)}, '') = ''`),
    sql` and `,
  );
  await sql`create temporary table ${sql.raw(BAD_ROWS)} on commit drop as
    select r.* from ${sql.raw(RAW)} r
    where ${o.onlyNoted ? sql`r.rn in (select b.rn from ${sql.raw(BAD)} b) and` : sql``} not (${blank})`.execute(db);
  await sql`create index on ${sql.raw(BAD_ROWS)} (rn)`.execute(db);
  const cols = ['rn', ...o.stageColumns];
  let last = 0;
  let rowsRead = 0;
  let slowValid = 0;
  for (;;) {
    const page = await sql<Record<string, string | null> & { rn: number }>`
      select * from ${sql.raw(BAD_ROWS)} where rn > ${last} order by rn limit 10000`.execute(db);
    if (page.rows.length === 0) break;
    const lines: string[] = [];
    const issues: string[] = [];
    for (const row of page.rows) {
      rowsRead++;
      last = row.rn;
      const cellsOf = Array.from({ length: o.width }, (_, i) => row[`c${i}`] ?? '');
      const r = o.checker.check({ rowNo: row.rn, cells: cellsOf });
      if ('issues' in r) {
        for (const [k, i] of r.issues.entries()) issues.push(`${i.row},${k},${csvText(i.column)},${csvText(i.value)},${csvText(i.reason)}\n`);
      } else lines.push(`${row.rn},${r.ok.line}`);
    }
    slowValid += lines.length;
    if (lines.length > 0) await s.copyCsv(o.stage, cols, [lines.join('')]);
    if (issues.length > 0) await s.copyCsv(ISSUES, ['rn', 'ord', 'col', 'val', 'reason'], [issues.join('')]);
  }
  return { rowsRead, valid: slowValid };
}

/** Row numbers as COPY input, a few thousand a piece. */
function* pieces(rns: Iterable<number>): Iterable<string> {
  let buf: number[] = [];
  for (const rn of rns) {
    buf.push(rn);
    if (buf.length === 8192) {
      yield `${buf.join('\n')}\n`;
      buf = [];
    }
  }
  if (buf.length > 0) yield `${buf.join('\n')}\n`;
}

/**
 * Duplicate keys among the staged rows: the first row (in the file) is kept,
 * each later one is rejected naming it, as rowChecker does. Returns how many
 * rows were taken out of the stage.
 */
export async function findDuplicates(db: Kysely<Database>, spec: EntitySpec, mapped: readonly MappedColumn[], stage: string): Promise<number> {
  const keys = spec.key.map((k) => sql.raw(`"${k}"`));
  const keyHeader = mapped.find((m) => m.field.name === spec.key[0])?.header ?? '';
  const keyText = sql.join(
    spec.key.map((k) => sql`coalesce(s.${sql.raw(`"${k}"`)}::text, '')`),
    sql` || ' / ' || `,
  );
  const dup = await sql`
    insert into ${sql.raw(ISSUES)} (rn, ord, col, val, reason)
    select s.rn, 0, ${keyHeader}::text, ${keyText},
           'duplicate: the same ' || ${spec.key.join(' + ')}::text || ' as row ' || d.first || ' of this file (the earlier row is kept)'
    from ${sql.raw(stage)} s
    join (select ${sql.join(keys)}, min(rn) as first from ${sql.raw(stage)} group by ${sql.join(keys)} having count(*) > 1) d
      using (${sql.join(keys)})
    where s.rn <> d.first`.execute(db);
  const n = Number(dup.numAffectedRows ?? 0);
  if (n > 0) await sql`delete from ${sql.raw(stage)} s where s.rn in (select rn from ${sql.raw(ISSUES)} where ord = 0 and reason like 'duplicate:%')`.execute(db);
  return n;
}

/** Rows rejected so far (each may have several issues). */
export async function countRejected(db: Kysely<Database>): Promise<number> {
  const r = await sql<{ n: number }>`select count(distinct rn)::integer as n from ${sql.raw(ISSUES)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** The issues in the order the Node path finds them: by row, then as rowChecker lists a row's problems. */
export async function emitIssues(db: Kysely<Database>, onIssue: (issue: RowIssue) => void): Promise<void> {
  await sql`create index on ${sql.raw(ISSUES)} (rn, ord)`.execute(db);
  let last = { rn: 0, ord: -1 };
  for (;;) {
    const page = await sql<{ rn: number; ord: number; col: string | null; val: string | null; reason: string }>`
      select rn, ord, col, val, reason from ${sql.raw(ISSUES)}
      where (rn, ord) > (${last.rn}, ${last.ord}) order by rn, ord limit 10000`.execute(db);
    if (page.rows.length === 0) return;
    for (const r of page.rows) {
      last = { rn: r.rn, ord: r.ord };
      onIssue({ row: r.rn, column: r.col ?? '', value: r.val ?? '', reason: r.reason });
    }
  }
}

/** A CSV field that COPY reads back as the same text ('' stays '', not NULL). */
function csvText(v: string): string {
  return `"${v.replaceAll('"', '""')}"`;
}

/**
 * COPY into a table this transaction has locked, with a value every row shares (updated_at,
 * is_stub) as the column's default while the COPY runs instead of on every line: reading the
 * same timestamp from every line cost about a fifth of a COPY. No one else writes the table
 * meanwhile (the lock), and the defaults are put back right after (a rollback would too).
 */
export async function copySharing(
  s: Session,
  tableName: string,
  columns: readonly string[],
  extras: readonly { name: string; text: string }[],
  chunks: AsyncIterable<CsvChunk> | Iterable<CsvChunk>,
): Promise<number> {
  for (const n of [tableName, ...extras.map((e) => e.name)]) if (!/^[a-z_][a-z0-9_]*$/.test(n)) throw new Error(`not a safe SQL identifier: ${n}`);
  const defaults = await sql<{ name: string; def: string | null }>`
    select a.attname as name, pg_get_expr(d.adbin, d.adrelid) as def
    from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attrelid = ${tableName}::regclass and a.attname in (${sql.join(extras.length > 0 ? extras.map((e) => e.name) : [''])})`.execute(s.db);
  const table = sql.raw(`"${tableName}"`);
  const setDefaults = async (to: (name: string) => string | null) => {
    for (const e of extras) {
      const def = to(e.name);
      const col = sql.raw(`"${e.name}"`);
      await (def === null ? sql`alter table ${table} alter column ${col} drop default` : sql`alter table ${table} alter column ${col} set default ${sql.raw(def)}`).execute(s.db);
    }
  };
  const lit = (v: string) => `'${v.replaceAll("'", "''")}'`;
  await setDefaults((name) => lit(extras.find((e) => e.name === name)!.text));
  const n = await s.copyCsv(tableName, columns, chunks);
  await setDefaults((name) => defaults.rows.find((d) => d.name === name)?.def ?? null);
  return n;
}
