// Streams rows as a CSV or XLSX download: rows are written as they arrive from
// the store, so an export of a million customers never sits whole in memory.
import { PassThrough, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import type { FastifyReply } from 'fastify';

export type TableFormat = 'csv' | 'xlsx';

export interface TableColumn<R> {
  header: string;
  value: (row: R) => unknown;
}

function cell(v: unknown): string | number | boolean | Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function sendTable<R>(
  reply: FastifyReply,
  format: TableFormat,
  baseName: string,
  columns: TableColumn<R>[],
  rows: AsyncIterable<R>,
): FastifyReply {
  const fileName = `${baseName}.${format}`;
  reply.header('content-disposition', `attachment; filename="${fileName}"`);
  if (format === 'csv') {
    reply.type('text/csv; charset=utf-8');
    const csv = stringify({ header: true, columns: columns.map((c) => c.header), bom: true, cast: { date: (d) => d.toISOString() } });
    void (async () => {
      try {
        for await (const r of rows) {
          if (!csv.write(columns.map((c) => cell(c.value(r))))) await new Promise((ok) => csv.once('drain', ok));
        }
        csv.end();
      } catch (e) {
        csv.destroy(e as Error);
      }
    })();
    return reply.send(csv);
  }
  reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  const out = new PassThrough();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
  const ws = wb.addWorksheet(baseName.slice(0, 31));
  ws.columns = columns.map((c) => ({ header: c.header, key: c.header, width: 18 }));
  void (async () => {
    try {
      for await (const r of rows) ws.addRow(columns.map((c) => cell(c.value(r)))).commit();
      ws.commit();
      await wb.commit();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  return reply.send(out as Readable);
}
