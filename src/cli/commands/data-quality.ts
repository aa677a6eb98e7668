import type { Command } from 'commander';
import { type DataQualityReport, formatDataQuality, type Locale } from '../../core/quality/quality.service.ts';
import { computeDataQuality } from '../../core/quality/quality.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

export function parseLocale(v: string | undefined): Locale {
  if (v === undefined || v === 'en') return 'en';
  if (v === 'zh-CN' || v === 'zh') return 'zh-CN';
  throw new UserError(`--locale must be en or zh-CN, not "${v}"`);
}

export function registerDataQuality(program: Command): void {
  program
    .command('data-quality')
    .description('report duplicates, refunds, outlier orders, bad dates, order-line problems and field completeness, with what to do')
    .option('--json', 'print the report as JSON')
    .option('--locale <locale>', 'language of the findings: en or zh-CN', 'en')
    .action(async (opts: { json?: boolean; locale?: string }) => {
      const locale = parseLocale(opts.locale);
      const print = (r: DataQualityReport) =>
        process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatDataQuality(r, locale));
      // With a server holding the embedded store, ask it instead of opening the folder.
      const server = await runningServer();
      if (server) {
        const res = await fetch(`${server.serverUrl}/api/data-quality?locale=${encodeURIComponent(locale)}`, {
          headers: { authorization: `Bearer ${server.localToken}` },
        });
        if (!res.ok) throw new Error(`the running server answered ${res.status}: ${await res.text()}`);
        print((await res.json()) as DataQualityReport);
        return;
      }
      await withStore('data-quality', async ({ store }) => print(await computeDataQuality(store.db, DEFAULT_WORKSPACE_ID, new Date(), { locale })));
    });
}
