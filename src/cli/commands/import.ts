// liuke import ENTITY FILE: CSV or XLSX into the store (or, when a server holds
// the embedded store, uploaded to that server). Rejected rows go to an errors
// CSV beside the file; a summary ends the run.
import { createWriteStream, openAsBlob, type WriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import { Argument, type Command } from 'commander';
import { ENTITIES, type ImportEntity } from '../../core/imports/entities.ts';
import { computeDataQuality, type DataQualityReport } from '../../core/quality/quality.service.ts';
import { type ImportReport, runImport } from '../../core/imports/import.service.ts';
import { type ExplicitMapping, parseMappingJson } from '../../core/imports/mapping.ts';
import { ENCODINGS, type Encoding } from '../../core/imports/reader.ts';
import type { RowIssue } from '../../core/imports/validate.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { AppError } from '../../server/errors.ts';
import { runningServer, UserError, withStore } from '../context.ts';

interface Opts {
  mapping?: string;
  encoding?: string;
  sheet?: string;
  strict?: boolean;
  dryRun?: boolean;
  errors?: string;
  json?: boolean;
  quality?: boolean;
}

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** The errors CSV (row, column, value, reason), opened at the first rejected row. */
function errorsWriter(path: string) {
  let out: WriteStream | null = null;
  return {
    write(i: RowIssue) {
      if (!out) {
        out = createWriteStream(path);
        out.write('\uFEFFrow,column,value,reason\n');
      }
      out.write(`${[i.row, i.column, i.value, i.reason].map(csvCell).join(',')}\n`);
    },
    get used() {
      return out !== null;
    },
    async close() {
      const o = out as WriteStream | null;
      if (o) await new Promise<void>((res, rej) => o.end((e?: Error | null) => (e ? rej(e) : res())));
    },
  };
}

function summary(r: ImportReport, errorsPath: string | null): string {
  const dry = r.status === 'dry_run';
  const lines = [
    `${dry ? 'dry run of' : 'imported'} ${r.entity} from ${r.file}${r.sheet ? ` (sheet ${r.sheet})` : ''}${r.encoding && r.encoding !== 'utf8' ? ` (${r.encoding})` : ''}`,
    `  rows read   ${r.rowsRead.toLocaleString('en')}`,
    `  ${dry ? 'new        ' : 'inserted   '} ${r.inserted.toLocaleString('en')}`,
    `  ${dry ? 'changed    ' : 'updated    '} ${r.updated.toLocaleString('en')}`,
    `  unchanged   ${r.unchanged.toLocaleString('en')}`,
    `  rejected    ${r.rejected.toLocaleString('en')}`,
  ];
  if (r.stubCustomers) lines.push(`  stub customers created for unknown ids: ${r.stubCustomers.toLocaleString('en')}`);
  lines.push(`  duration    ${(r.durationMs / 1000).toFixed(1)} s`);
  if (errorsPath) lines.push(`  errors      ${errorsPath}`);
  for (const h of r.ignoredHeaders) lines.push(`  ignored column ${JSON.stringify(h.header)}: ${h.reason}`);
  if (r.status === 'failed' && r.message) lines.push(`  ${r.message}`);
  if (dry) lines.push('  (dry run: nothing was written)');
  return `${lines.join('\n')}\n`;
}

async function viaServer(server: { serverUrl?: string; localToken?: string }, entity: ImportEntity, file: string, mapping: ExplicitMapping | undefined, o: Opts) {
  const form = new FormData();
  if (mapping) form.append('mapping', JSON.stringify(mapping));
  form.append('file', await openAsBlob(file), basename(file));
  const q = new URLSearchParams();
  if (o.strict) q.set('strict', 'true');
  if (o.dryRun) q.set('dry_run', 'true');
  if (o.encoding) q.set('encoding', o.encoding);
  if (o.sheet) q.set('sheet', o.sheet);
  const res = await fetch(`${server.serverUrl}/api/imports/${entity}?${q}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.localToken}` },
    body: form,
  });
  const body = (await res.json().catch(() => null)) as (ImportReport & { error?: { message: string } }) | null;
  if (!res.ok) throw new UserError(body?.error?.message ?? `the running server answered ${res.status}`);
  return body as ImportReport;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import a CSV or XLSX file (POS, shop or CRM export); re-importing the same file changes nothing')
    .addArgument(new Argument('<entity>', 'what the file holds').choices(ENTITIES))
    .argument('<file>', 'CSV or XLSX file')
    .option('--mapping <file>', 'JSON file {"source header": "field"} for headers not recognised')
    .option('--encoding <encoding>', `CSV encoding: ${ENCODINGS.join(', ')} (default: detected)`)
    .option('--sheet <name>', 'XLSX sheet to import (needed when several sheets hold data)')
    .option('--strict', 'write nothing if any row is rejected')
    .option('--dry-run', 'report what would be new, changed, unchanged and rejected; write nothing')
    .option('--errors <file>', 'where to write rejected rows (default: FILE.errors.csv)')
    .option('--json', 'print the report as JSON')
    .option('--no-quality', 'skip the data-quality report after the import')
    .action(async (entity: ImportEntity, file: string, o: Opts) => {
      if (o.encoding && !(ENCODINGS as readonly string[]).includes(o.encoding)) {
        throw new UserError(`--encoding must be one of ${ENCODINGS.join(', ')}, not ${JSON.stringify(o.encoding)}`);
      }
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        throw new UserError(`no such file: ${file}`);
      }
      let mapping: ExplicitMapping | undefined;
      if (o.mapping) {
        let text: string;
        try {
          text = await readFile(o.mapping, 'utf8');
        } catch {
          throw new UserError(`cannot read the mapping file ${o.mapping}`);
        }
        try {
          mapping = parseMappingJson(text, o.mapping);
        } catch (e) {
          throw new UserError((e as Error).message);
        }
      }
      const errorsPath = o.errors ?? `${file}.errors.csv`;
      const errors = errorsWriter(errorsPath);

      let report: ImportReport;
      const server = await runningServer();
      if (server) {
        process.stderr.write(`uploading to the running server at ${server.serverUrl}…\n`);
        report = await viaServer(server, entity, file, mapping, o);
        for (const i of report.errors) errors.write(i);
      } else {
        const bar =
          process.stderr.isTTY && size > 4 * 1024 * 1024
            ? new cliProgress.SingleBar(
                { format: 'importing |{bar}| {percentage}% {value}/{total} MB, {eta_formatted} left', stream: process.stderr, etaBuffer: 50 },
                cliProgress.Presets.shades_classic,
              )
            : null;
        const mb = (n: number) => Math.round(n / 1e5) / 10;
        bar?.start(mb(size), 0);
        try {
          report = await withStore('import', ({ store }) =>
            runImport(store, {
              workspaceId: DEFAULT_WORKSPACE_ID,
              entity,
              input: { path: file },
              fileName: file,
              mapping,
              encoding: o.encoding as Encoding | undefined,
              sheet: o.sheet,
              strict: o.strict,
              dryRun: o.dryRun,
              actor: 'cli',
              now: new Date(),
              onBytes: bar ? (n) => bar.update(mb(n)) : undefined,
              onIssue: (i) => errors.write(i),
            }),
          );
        } catch (e) {
          await errors.close();
          if (e instanceof AppError) throw new UserError(e.message);
          throw e;
        } finally {
          bar?.stop();
        }
      }
      await errors.close();
      const errorsFile = errors.used ? errorsPath : null;
      // The data-quality report after each import: refunds, outliers, duplicates and bad dates are
      // shown before they distort RFM, CLV or the models.
      let quality: DataQualityReport | null = null;
      if (o.quality !== false && report.status === 'done' && !o.dryRun) {
        if (server) {
          const res = await fetch(`${server.serverUrl}/api/data-quality`, { headers: { authorization: `Bearer ${server.localToken}` } });
          if (res.ok) quality = (await res.json()) as DataQualityReport;
        } else {
          quality = await withStore('data-quality', ({ store }) => computeDataQuality(store.db, DEFAULT_WORKSPACE_ID, new Date()));
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ ...report, errorsFile, dataQuality: quality }, null, 2)}\n`);
      else {
        process.stdout.write(summary(report, errorsFile));
        if (quality) {
          const notable = quality.findings.filter((f) => f.severity !== 'info');
          process.stdout.write(
            `data quality: completeness ${quality.completeness.overall ?? '–'}%, ` +
              `${notable.length ? `${notable.length} finding(s) to look at:` : 'nothing to look at'}\n`,
          );
          for (const f of notable) process.stdout.write(`  [${f.severity}] ${f.message}\n`);
          if (notable.length) process.stdout.write('  (`liuke data-quality` shows the whole report)\n');
        }
      }
      if (report.status === 'failed') process.exitCode = 1;
    });
}
