// Reading an import file as a stream of rows: CSV (any of , ; or tab, UTF-8 or
// GBK/GB18030) or XLSX. Nothing here holds the whole file: CSV goes through
// csv-parse as it is read, XLSX through exceljs's streaming WorkbookReader.
// What is wrong with the file as a whole (binary, empty, wrong encoding,
// unbalanced quotes, several sheets) is an ImportFileError with a message the
// user can act on.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { AppError } from '../../server/errors.ts';

export type Encoding = 'utf8' | 'gbk' | 'gb18030';
export const ENCODINGS: readonly Encoding[] = ['utf8', 'gbk', 'gb18030'];

/** A cell as read: CSV gives text; XLSX may give numbers and dates too. */
export type Cell = string | number | Date | null;

export interface SourceRow {
  /** The row number a spreadsheet would show: the header is row 1. */
  rowNo: number;
  cells: Cell[];
  /** Set when the row cannot be read as a whole (e.g. too few fields). */
  problem?: string;
}

export interface Source {
  format: 'csv' | 'xlsx';
  /** CSV only: the encoding used (detected or given). */
  encoding?: Encoding;
  /** CSV only: the field separator (detected from the header line). */
  delimiter?: string;
  /** XLSX only: the sheet read. */
  sheet?: string;
  headers: string[];
  rows: AsyncIterable<SourceRow>;
  /** Removes temporary files (an uploaded XLSX is spooled to disk). */
  cleanup(): Promise<void>;
}

/** The file as a whole cannot be imported. */
export class ImportFileError extends AppError {
  constructor(message: string, code = 'bad_file', status = 400) {
    super(status, code, message);
  }
}

export interface ReadOptions {
  encoding?: Encoding | undefined;
  sheet?: string | undefined;
  /** Called with the number of raw bytes read so far (for a progress bar). */
  onBytes?: ((bytes: number) => void) | undefined;
}

/** Where the file comes from: a path, or a stream (an upload) with its name. */
export type Input = { path: string; fileName?: string } | { stream: Readable; fileName: string };

const PEEK = 64 * 1024;
/** A field longer than this is almost always a quote that was never closed. */
const MAX_RECORD = 4 * 1024 * 1024;

type Kind = 'csv' | 'xlsx';

function sniff(head: Buffer, name: string): Kind {
  if (head.length === 0) throw new ImportFileError(`${name} is empty`, 'empty_file');
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'xlsx';
  if (head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0) {
    throw new ImportFileError(`${name} is an old Excel .xls file: save it as .xlsx or CSV and import that`, 'unsupported_format');
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new ImportFileError(`${name} is UTF-16 text: save it as CSV (UTF-8) and import that`, 'unsupported_encoding');
  }
  // Text files have no NUL bytes and few control characters.
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) throw new ImportFileError(`${name} is not a text file (it contains binary data): import a CSV or XLSX file`, 'binary_file');
    if (b < 9 || (b > 13 && b < 32 && b !== 27)) control++;
  }
  if (control > head.length / 100) {
    throw new ImportFileError(`${name} is not a text file (it contains binary data): import a CSV or XLSX file`, 'binary_file');
  }
  return 'csv';
}

function isUtf8(head: Buffer): boolean {
  try {
    // stream: true tolerates a character cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

async function readHead(input: Input): Promise<{ head: Buffer; body: Readable; name: string }> {
  if ('path' in input) {
    const name = input.fileName ?? input.path;
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(input.path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ImportFileError(code === 'ENOENT' ? `no such file: ${input.path}` : `cannot read ${input.path}: ${(e as Error).message}`, 'no_file');
    }
    try {
      if ((await fh.stat()).isDirectory()) throw new ImportFileError(`${input.path} is a folder, not a file`, 'no_file');
      const buf = Buffer.alloc(PEEK);
      const { bytesRead } = await fh.read(buf, 0, PEEK, 0);
      return { head: buf.subarray(0, bytesRead), body: createReadStream(input.path, { highWaterMark: 256 * 1024 }), name };
    } finally {
      await fh.close();
    }
  }
  // A stream: take its first chunks, then hand on a stream that replays them.
  const it = input.stream[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < PEEK) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    first.push(b);
    len += b.length;
  }
  const head = Buffer.concat(first);
  async function* replay() {
    yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  return { head: head.subarray(0, PEEK), body: Readable.from(replay(), { objectMode: false }), name: input.fileName };
}

function counting(onBytes: ((n: number) => void) | undefined): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes?.(n);
      cb(null, chunk);
    },
  });
}

/** Opens an import file: detects its kind and encoding and reads the header row. */
export async function openSource(input: Input, opts: ReadOptions = {}): Promise<Source> {
  const { head, body, name } = await readHead(input);
  let kind: Kind;
  try {
    kind = sniff(head, name);
  } catch (e) {
    body.destroy();
    throw e;
  }
  if (kind === 'xlsx') {
    let path: string;
    let tmp: string | null = null;
    if ('path' in input) {
      body.destroy();
      path = input.path;
    } else {
      // The zip directory sits at the end: an uploaded workbook is spooled to disk first.
      tmp = await mkdtemp(join(tmpdir(), 'liuke-import-'));
      path = join(tmp, 'upload.xlsx');
      await pipeline(body, createWriteStream(path));
    }
    const cleanup = async () => {
      if (tmp) await rm(tmp, { recursive: true, force: true });
    };
    try {
      return await openXlsx(path, name, opts, cleanup);
    } catch (e) {
      await cleanup();
      throw e;
    }
  }
  return openCsv(head, body, name, opts);
}

function delimiterOf(firstLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', '\t', ';', '|']) {
    const c = firstLine.split(d).length - 1;
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

function csvProblem(e: unknown, name: string): Error {
  const err = e as { code?: string; lines?: number; message?: string };
  if (e instanceof ImportFileError) return e;
  const where = err.lines ? ` near line ${err.lines}` : '';
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new ImportFileError(`malformed CSV in ${name}${where}: a quoted field is never closed (unbalanced quotes); nothing was imported`, 'malformed_csv');
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new ImportFileError(`malformed CSV in ${name}${where}: text after a closing quote (unbalanced quotes); nothing was imported`, 'malformed_csv');
    case 'CSV_MAX_RECORD_SIZE':
      return new ImportFileError(`malformed CSV in ${name}${where}: a record is longer than 4 MB, probably an unbalanced quote; nothing was imported`, 'malformed_csv');
    default:
      if (err.code?.startsWith('CSV_')) return new ImportFileError(`malformed CSV in ${name}${where}: ${err.message}; nothing was imported`, 'malformed_csv');
      return e as Error;
  }
}

async function openCsv(head: Buffer, body: Readable, name: string, opts: ReadOptions): Promise<Source> {
  const encoding: Encoding = opts.encoding ?? (isUtf8(head) ? 'utf8' : 'gb18030');
  const sample = encoding === 'utf8' ? new TextDecoder('utf-8').decode(head) : iconv.decode(head, encoding);
  const firstLine = sample.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.trim() === '' && sample.trim() === '') throw new ImportFileError(`${name} is empty`, 'empty_file');
  const delimiter = delimiterOf(firstLine);

  let decoder: Transform;
  if (encoding === 'utf8') {
    // Fatal decoding: a GBK file that happens to start with ASCII is caught where it turns non-UTF-8.
    const td = new TextDecoder('utf-8', { fatal: true });
    let offset = 0;
    decoder = new Transform({
      decodeStrings: true,
      transform(chunk: Buffer, _e, cb) {
        try {
          const s = td.decode(chunk, { stream: true });
          offset += chunk.length;
          cb(null, s);
        } catch {
          cb(
            new ImportFileError(
              `${name} is not valid UTF-8 (around byte ${offset.toLocaleString('en')}): it looks like a GBK/GB18030 export; pass --encoding gb18030 (or gbk)`,
              'wrong_encoding',
            ),
          );
        }
      },
      flush(cb) {
        try {
          cb(null, td.decode());
        } catch {
          cb(new ImportFileError(`${name} ends in the middle of a UTF-8 character: is the file truncated?`, 'wrong_encoding'));
        }
      },
    });
  } else {
    decoder = iconv.decodeStream(encoding) as unknown as Transform;
  }
  const parser = parse({
    bom: true,
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD,
  });
  const progress = counting(opts.onBytes);
  // Errors anywhere in the chain surface from the parser's iterator.
  const fail = (e: unknown) => parser.destroy(e as Error);
  body.on('error', fail);
  progress.on('error', fail);
  decoder.on('error', fail);
  body.pipe(progress).pipe(decoder).pipe(parser);
  const it = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;

  let headerRec: string[] | undefined;
  try {
    const r = await it.next();
    headerRec = r.done ? undefined : r.value;
  } catch (e) {
    body.destroy();
    throw csvProblem(e, name);
  }
  if (!headerRec || headerRec.every((h) => h.trim() === '')) {
    body.destroy();
    throw new ImportFileError(`${name} is empty`, 'empty_file');
  }
  const headers = headerRec.map((h) => h.trim());
  const width = headers.length;

  async function* rows(): AsyncIterable<SourceRow> {
    let rowNo = 1;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        rowNo++;
        const cells = r.value;
        if (cells.length !== width) {
          // Trailing empty fields (a stray comma) are harmless; anything else is a ragged row.
          const extra = cells.slice(width);
          if (cells.length > width && extra.every((c) => c === '')) {
            yield { rowNo, cells: cells.slice(0, width) };
            continue;
          }
          yield { rowNo, cells, problem: `row has ${cells.length} fields but the header has ${width}` };
          continue;
        }
        if (cells.every((c) => c === '')) continue;
        yield { rowNo, cells };
      }
    } catch (e) {
      throw csvProblem(e, name);
    } finally {
      body.destroy();
    }
  }
  return {
    format: 'csv',
    encoding,
    delimiter,
    headers,
    rows: rows(),
    // Rows never read (the raw CSV path reads the file itself): stop reading.
    cleanup: async () => {
      body.destroy();
    },
  };
}

// ---------- XLSX ----------

function cellValue(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v;
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; result?: unknown; text?: unknown; error?: string };
    if (o.richText) return o.richText.map((t) => t.text).join('');
    if ('result' in o) return cellValue(o.result);
    if (o.text !== undefined) return cellValue(o.text);
    if (o.error) return null;
  }
  return String(v);
}

function rowCells(values: unknown): Cell[] {
  // exceljs rows are 1-based sparse arrays.
  const arr = Array.isArray(values) ? values : [];
  const out: Cell[] = [];
  for (let i = 1; i < arr.length; i++) out.push(cellValue(arr[i]));
  return out;
}

const emptyCell = (c: Cell) => c === null || (typeof c === 'string' && c.trim() === '');

function workbookReader(path: string, onBytes: ((n: number) => void) | undefined) {
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(counting(onBytes));
  return new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
}

async function openXlsx(path: string, name: string, opts: ReadOptions, cleanup: () => Promise<void>): Promise<Source> {
  let sheet = opts.sheet;
  if (!sheet) {
    // First pass: which sheets hold data? One → that one; several → the user chooses.
    const withData: string[] = [];
    const all: string[] = [];
    try {
      for await (const ws of workbookReader(path, undefined)) {
        const w = ws as unknown as AsyncIterable<{ values: unknown }> & { name: string };
        all.push(w.name);
        let has = false;
        for await (const row of w) {
          if (!has && rowCells(row.values).some((c) => !emptyCell(c))) has = true;
        }
        if (has) withData.push(w.name);
      }
    } catch (e) {
      throw new ImportFileError(`${name} is not a readable XLSX workbook: ${(e as Error).message}`, 'bad_xlsx');
    }
    if (withData.length === 0) throw new ImportFileError(`${name} is empty: no sheet has any data`, 'empty_file');
    if (withData.length > 1) {
      throw new ImportFileError(
        `${name} has several sheets with data (${all.map((s) => JSON.stringify(s)).join(', ')}): choose one with --sheet NAME (sheet=NAME over HTTP)`,
        'several_sheets',
      );
    }
    sheet = withData[0]!;
  }
  const chosen = sheet;

  // Second pass (or the only one): stream the chosen sheet.
  const reader = workbookReader(path, opts.onBytes);
  const sheets = reader[Symbol.asyncIterator]() as AsyncIterator<AsyncIterable<{ values: unknown; number: number }> & { name: string }>;
  const seen: string[] = [];
  let target: (AsyncIterable<{ values: unknown; number: number }> & { name: string }) | undefined;
  try {
    for (;;) {
      const r = await sheets.next();
      if (r.done) break;
      seen.push(r.value.name);
      if (r.value.name === chosen) {
        target = r.value;
        break;
      }
      for await (const _ of r.value) {
        // drain sheets before the chosen one
      }
    }
  } catch (e) {
    throw new ImportFileError(`${name} is not a readable XLSX workbook: ${(e as Error).message}`, 'bad_xlsx');
  }
  if (!target) {
    throw new ImportFileError(`${name} has no sheet named ${JSON.stringify(chosen)}; its sheets are ${seen.map((s) => JSON.stringify(s)).join(', ')}`, 'no_sheet');
  }
  const rowIt = target[Symbol.asyncIterator]();
  let headers: string[] | undefined;
  for (;;) {
    const r = await rowIt.next();
    if (r.done) break;
    const cells = rowCells(r.value.values);
    if (cells.some((c) => !emptyCell(c))) {
      headers = cells.map((c) => (c instanceof Date ? c.toISOString() : c === null ? '' : String(c).trim()));
      break;
    }
  }
  if (!headers) throw new ImportFileError(`sheet ${JSON.stringify(chosen)} of ${name} is empty`, 'empty_file');
  while (headers.length > 0 && headers[headers.length - 1] === '') headers.pop();
  const width = headers.length;

  async function* rows(): AsyncIterable<SourceRow> {
    try {
      for (;;) {
        const r = await rowIt.next();
        if (r.done) break;
        const cells = rowCells(r.value.values);
        if (cells.every(emptyCell)) continue;
        if (cells.length > width && !cells.slice(width).every(emptyCell)) {
          yield { rowNo: r.value.number, cells, problem: `row has values beyond the last header (column ${cells.length})` };
          continue;
        }
        while (cells.length < width) cells.push(null);
        yield { rowNo: r.value.number, cells: cells.slice(0, width) };
      }
      // Let the reader finish the zip so its temp files go.
      for (;;) {
        const r = await sheets.next();
        if (r.done) break;
        for await (const _ of r.value) {
          // drain
        }
      }
    } finally {
      await cleanup();
    }
  }
  return { format: 'xlsx', sheet: chosen, headers, rows: rows(), cleanup };
}

/** Size of a file, for the progress bar. */
export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
