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
import { createReadStream } from 'node:fs';
import iconv from 'iconv-lite';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';
import type { EntitySpec } from './entities.ts';
import type { Mapping } from './mapping.ts';
import type { Encoding, Input, Source } from './reader.ts';
import type { MappedColumn, RowChecker, RowIssue } from './validate.ts';

export const RAW = 'liuke_import_raw';
const BAD = 'liuke_import_bad';
const ISSUES = 'liuke_import_issues';

/** The file cannot take the raw path; the Node path reads it instead. */
export class NotForRawPath extends Error {}

/** The dates and times parseDateTime turns into the same text without changing them (1900–2200, real hours). */
const DATE_RE = '^(19[0-9]{2}|2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])( ([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$';
/** Amounts parseAmount keeps as written: below 1e12, no sign, separators or currency. */
const AMOUNT_RE = '^[0-9]{1,11}([.][0-9]{1,6})?$';
const MAX_RECORD = 4 * 1024 * 1024;

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
export async function* recordPieces(path: string, encoding: Encoding, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
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
      if (piece.length > 0) yield piece;
    }
  } finally {
    stream.destroy();
  }
}

/** Offset just after the first newline outside quotes (0 when there is none). */
function firstBoundary(buf: Buffer): number {
  let inQuote = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x22) inQuote = !inQuote;
    else if (b === 0x0a && !inQuote) return i + 1;
  }
  return 0;
}

/** Code points String.prototype.trim() removes: a cell starting or ending with one goes through Node. */
const JS_SPACES = [9, 10, 11, 12, 13, 32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288, 65279];

/**
 * SQL for one mapped cell: `ok` (over RAW r and the enum join) says whether
 * SQL converts its spelling exactly as the field's normaliser would; `value`
 * (over the row x that carries r's columns and the enum's result) converts it.
 */
function cellSql(m: MappedColumn, k: number): { ok: RawBuilder<unknown>; value: RawBuilder<unknown>; join?: RawBuilder<unknown>; pass?: RawBuilder<unknown> } {
  const c = sql.raw(`r.c${m.col}`);
  const x = sql.raw(`x.c${m.col}`);
  const f = m.field;
  const rule = f.fast!;
  const empty = sql`coalesce(${c}, '') = ''`;
  // Never NULL: a row is converted in SQL only where this is true.
  const orEmpty = (check: RawBuilder<unknown>) => (f.required ? sql`(not ${empty} and ${check})` : sql`(${empty} or ${check})`);
  const whenEmpty = f.whenEmpty === undefined ? sql`null` : sql`${f.whenEmpty}::text`;
  if (rule === 'text') {
    const spaces = sql.raw(`(${JS_SPACES.join(', ')})`);
    return { ok: orEmpty(sql`(ascii(${c}) not in ${spaces} and ascii(right(${c}, 1)) not in ${spaces})`), value: sql`coalesce(nullif(${x}, ''), ${whenEmpty})` };
  }
  if (rule === 'amount') return { ok: orEmpty(sql`${c} ~ ${AMOUNT_RE}`), value: sql`coalesce(nullif(${x}, ''), ${whenEmpty})::numeric` };
  if (rule === 'timestamptz') {
    // Days 29–31 only where the month has them (the regular expression allows 01–31).
    const day = sql`(substr(${c}, 9, 2) <= '28' or substr(${c}, 9, 2)::integer <= extract(day from make_date(substr(${c}, 1, 4)::integer, substr(${c}, 6, 2)::integer, 1) + interval '1 month - 1 day'))`;
    return { ok: orEmpty(sql`(${c} ~ ${DATE_RE} and ${day})`), value: sql`coalesce(nullif(${x}, ''), ${whenEmpty})::timestamptz` };
  }
  const alias = sql.raw(`e${k}`);
  const rows = [...rule.words].map(([w, v]) => sql`(${w}::text, ${v}::text)`);
  return {
    ok: orEmpty(sql`${alias}.w is not null`),
    value: sql`case when coalesce(${x}, '') = '' then ${whenEmpty} else x.${alias} end`,
    join: sql`left join (values ${sql.join(rows)}) ${alias}(w, v) on ${alias}.w = ${c}`,
    pass: sql`${alias}.v as ${alias}`,
  };
}

export interface RawResult {
  /** Rows read (blank rows are skipped, as the Node path does). */
  rowsRead: number;
  /** Rows now in the staging table. */
  staged: number;
}

/** Step 1: the file's records into RAW. Any error here means: not for the raw path (the caller rolls back). */
export async function copyRaw(s: Session, width: number, path: string, encoding: Encoding, onBytes?: (n: number) => void): Promise<number> {
  const cols = Array.from({ length: width }, (_, i) => `c${i}`);
  // The row number a spreadsheet shows: the header is row 1, and COPY numbers records in file order.
  await sql
    .raw(`create temporary table ${RAW} (rn integer generated by default as identity (start with 2 cache 1000), ${cols.map((c) => `${c} text`).join(', ')}) on commit drop`)
    .execute(s.db);
  return s.copyCsv(RAW, cols, recordPieces(path, encoding, onBytes));
}

/**
 * Step 2: RAW into the staging table (created with rn and ok columns). One
 * pass converts every row SQL can; the others go through rowChecker in Node:
 * their issues to ISSUES, the valid ones to the stage. Duplicate keys are
 * left for findDuplicates.
 */
export async function sortRaw(
  s: Session,
  o: {
    mapped: readonly MappedColumn[];
    width: number;
    checker: RowChecker;
    stage: string;
    stageColumns: readonly string[];
  },
): Promise<RawResult> {
  const db = s.db;
  const cells = o.mapped.map((m, k) => cellSql(m, k));
  const joins = cells.flatMap((c) => (c.join ? [c.join] : []));
  const passes = cells.flatMap((c) => (c.pass ? [c.pass] : []));
  const ok = sql.join(
    cells.map((c) => c.ok),
    sql` and `,
  );
  const blank = sql.join(
    Array.from({ length: o.width }, (_, i) => sql`coalesce(${sql.raw(`r.c${i}`)}, '') = ''`),
    sql` and `,
  );
  const stageCols = o.stageColumns.map((c) => `"${c}"`).join(', ');
  // One pass: ok computed once per row (OFFSET 0 keeps the subquery from being
  // folded into the outer one, which would repeat it per column); blank rows are skipped.
  const all = await sql`
    insert into ${sql.raw(o.stage)} (rn, ok, ${sql.raw(stageCols)})
    select x.rn, x.ok, ${sql.join(cells.map((c) => sql`case when x.ok then ${c.value} end`))}
    from (select r.*, ${passes.length > 0 ? sql`${sql.join(passes)},` : sql``} ${ok} as ok, ${blank} as blank
          from ${sql.raw(RAW)} r ${sql.join(joins, sql` `)} offset 0) x
    where not x.blank`.execute(db);
  const rowsRead = Number(all.numAffectedRows ?? 0);
  await sql`create temporary table ${sql.raw(ISSUES)} (rn integer, ord integer, col text, val text, reason text) on commit drop`.execute(db);

  // The rows SQL did not convert (few in a good file), through rowChecker: its issues, or its line for the stage.
  await sql`create temporary table ${sql.raw(BAD)} on commit drop as
    select r.* from ${sql.raw(RAW)} r where r.rn in (select rn from ${sql.raw(o.stage)} where not ok)`.execute(db);
  const bad = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(BAD)}`.execute(db);
  if (Number(bad.rows[0]?.n ?? 0) > 0) {
    await sql`delete from ${sql.raw(o.stage)} where not ok`.execute(db);
    await sql`create index on ${sql.raw(BAD)} (rn)`.execute(db);
    const cols = ['rn', ...o.stageColumns];
    let last = 0;
    for (;;) {
      const page = await sql<Record<string, string | null> & { rn: number }>`
        select * from ${sql.raw(BAD)} where rn > ${last} order by rn limit 10000`.execute(db);
      if (page.rows.length === 0) break;
      const lines: string[] = [];
      const issues: string[] = [];
      for (const row of page.rows) {
        last = row.rn;
        const cellsOf = Array.from({ length: o.width }, (_, i) => row[`c${i}`] ?? '');
        const r = o.checker.check({ rowNo: row.rn, cells: cellsOf });
        if ('issues' in r) {
          for (const [k, i] of r.issues.entries()) issues.push(`${i.row},${k},${csvText(i.column)},${csvText(i.value)},${csvText(i.reason)}\n`);
        } else lines.push(`${row.rn},${r.ok.line}`);
      }
      if (lines.length > 0) await s.copyCsv(o.stage, cols, [lines.join('')]);
      if (issues.length > 0) await s.copyCsv(ISSUES, ['rn', 'ord', 'col', 'val', 'reason'], [issues.join('')]);
    }
  }
  const staged = await sql<{ n: number }>`select count(*)::integer as n from ${sql.raw(o.stage)}`.execute(db);
  return { rowsRead, staged: Number(staged.rows[0]?.n ?? 0) };
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
