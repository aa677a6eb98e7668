import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import type { Report } from '../../core/reports/report.ts';
import { REPORTS, runReport } from '../../core/reports/registry.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

export function formatReport(r: Report, format: string, lang: 'en' | 'zh-CN'): string {
  const head = r.columns.map((c) => (lang === 'zh-CN' ? c.zh : c.en));
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'csv') {
    return stringify([r.columns.map((c) => c.key), ...r.rows.map((row) => r.columns.map((c) => row[c.key] ?? ''))], {
      cast: { date: (d) => d.toISOString() },
    });
  }
  const cell = (v: unknown, type?: string) => {
    if (v === null || v === undefined) return '';
    if (type === 'percent' && typeof v === 'number') return `${(v * 100).toFixed(1)}%`;
    if (v instanceof Date) return v.toISOString().slice(0, 10);
    if (typeof v === 'number') return v.toLocaleString('en', { maximumFractionDigits: 2 });
    return String(v);
  };
  const rows = r.rows.map((row) => r.columns.map((c) => cell(row[c.key], c.type)));
  // East Asian characters take two columns in a terminal.
  const width = (s: string) => [...s].reduce((a, ch) => a + (/[\u1100-\uffdc]/.test(ch) ? 2 : 1), 0);
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((row) => width(row[i]!))));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join('  ').trimEnd();
  const title = lang === 'zh-CN' ? r.title.zh : r.title.en;
  return [title, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function registerReport(program: Command): void {
  program
    .command('report <name>')
    .description(`print a report with the figures the UI shows (${Object.keys(REPORTS).join(', ')})`)
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--lang <lang>', 'en or zh-CN (column headers)', 'en')
    .option('--param <key=value...>', 'report options, e.g. --param days=90')
    .action(async (name: string, opts: { format: string; lang: string; param?: string[] }) => {
      if (!['table', 'csv', 'json'].includes(opts.format)) throw new UserError(`--format must be table, csv or json, not "${opts.format}"`);
      if (!REPORTS[name]) throw new UserError(`unknown report "${name}"; the reports are: ${Object.keys(REPORTS).join(', ')}`);
      const params = Object.fromEntries((opts.param ?? []).map((p) => p.split('=', 2) as [string, string]));
      const server = await runningServer();
      if (server) {
        const q = new URLSearchParams(params as Record<string, string>);
        const res = await fetch(`${server.serverUrl}/api/reports/${encodeURIComponent(name)}?${q}`, {
          headers: { authorization: `Bearer ${server.localToken}` },
        });
        if (!res.ok) throw new UserError(`the running server answered ${res.status}: ${await res.text()}`);
        process.stdout.write(formatReport((await res.json()) as Report, opts.format, opts.lang === 'zh-CN' ? 'zh-CN' : 'en'));
        return;
      }
      await withStore('report', async ({ store }) => {
        const r = await runReport(name, { db: store.db, workspaceId: DEFAULT_WORKSPACE_ID, now: new Date(), params });
        process.stdout.write(formatReport(r, opts.format, opts.lang === 'zh-CN' ? 'zh-CN' : 'en'));
      });
    });
}
