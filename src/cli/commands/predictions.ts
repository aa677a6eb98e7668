// liuke clv backtest|show (on the store), liuke products affinities, liuke clusters show:
// the figures of the pipeline's clv, next_products and clusters steps.
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { topAffinities } from '../../core/predictions/affinities.ts';
import { customerClv, latestFit } from '../../core/predictions/clv.repository.ts';
import { type ClvModel, storeBacktest } from '../../core/predictions/clv.step.ts';
import { type ClusterProfileOut, customerCluster, latestClusters } from '../../core/predictions/clusters.ts';
import { customerNextProducts } from '../../core/predictions/recommend.ts';
import { loadPredictionSettings } from '../../core/predictions/settings.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { UserError, withStore } from '../context.ts';

const WS = DEFAULT_WORKSPACE_ID;
const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '');

// East Asian characters take two columns in a terminal.
const width = (s: string) => [...s].reduce((a, ch) => a + (/[\u1100-\uffdc]/.test(ch) ? 2 : 1), 0);
const pad = (s: string, w: number, left: boolean) => (left ? s + ' '.repeat(w - width(s)) : ' '.repeat(w - width(s)) + s);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => width(r[j] ?? ''))));
  return `${rows.map((r) => r.map((c, j) => pad(c, widths[j]!, j === 0 || (rows[0]!.length > 4 && j < 3))).join('  ').trimEnd()).join('\n')}\n`;
}

function date(flag: string, v: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(new Date(`${v}T00:00:00Z`).getTime())) throw new UserError(`${flag} "${v}" is not a date (YYYY-MM-DD)`);
  return new Date(`${v}T00:00:00Z`);
}

/** Adds `backtest` and `show` to the existing `liuke clv` command. */
export function extendClv(program: Command): void {
  const clv = program.commands.find((c) => c.name() === 'clv');
  if (!clv) return;
  clv
    .command('backtest')
    .description('fit on the store\'s paid orders up to --calibration-end and compare with the purchases up to --holdout-end')
    .requiredOption('--calibration-end <date>', 'last day of the calibration period (YYYY-MM-DD)')
    .option('--holdout-end <date>', 'last day of the holdout (default today)')
    .option('--model <model>', 'bgnbd or pareto-nbd (default: the workspace setting)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (opts: { calibrationEnd: string; holdoutEnd?: string; model?: string; format: string }) => {
      const cal = date('--calibration-end', opts.calibrationEnd);
      const ho = opts.holdoutEnd ? date('--holdout-end', opts.holdoutEnd) : new Date();
      if (ho <= cal) throw new UserError('--holdout-end must be after --calibration-end');
      if (opts.model && opts.model !== 'bgnbd' && opts.model !== 'pareto-nbd') throw new UserError(`--model must be bgnbd or pareto-nbd, not "${opts.model}"`);
      await withStore('clv backtest', async ({ store }) => {
        const model = (opts.model ?? (await loadPredictionSettings(store.db, WS)).clv.model) as ClvModel;
        const b = await storeBacktest(store, WS, { calibrationEnd: cal, holdoutEnd: ho, model });
        if (!b) throw new UserError(`too few customers with repeat purchases on or before ${opts.calibrationEnd} to fit the model`);
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify(b, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${b.model}, calibration to ${b.calibrationEnd}, holdout to ${b.holdoutEnd} (${b.duration} days): purchase days per customer in the holdout\n`);
        process.stdout.write(table([['repeat purchases in calibration', 'customers', 'actual', 'predicted'], ...b.groups.map((g) => [g.frequency, String(g.customers), f(g.actualMean, 3), f(g.predictedMean, 3)])]));
        const t = b.totals;
        process.stdout.write(`total: actual ${t.actual}, predicted ${t.predicted.toFixed(1)} (${t.errorPercent >= 0 ? '+' : ''}${t.errorPercent.toFixed(1)}%); mean absolute error per customer ${b.meanAbsoluteError.toFixed(3)}\n`);
        if (b.truth) process.stdout.write(`demo truth: ${(b.truth.aliveShare * 100).toFixed(1)}% alive at the calibration end; ROC-AUC of P(alive) ${b.truth.rocAuc?.toFixed(3) ?? 'n/a'}\n`);
      });
    });
  clv
    .command('show <customer>')
    .description("a customer's CLV figures, cluster and next-best products from the last pipeline run")
    .option('--format <format>', 'table or json', 'table')
    .action(async (id: string, opts: { format: string }) => {
      await withStore('clv show', async ({ store }) => {
        const [v, cluster, next, fit] = await Promise.all([customerClv(store.db, WS, id), customerCluster(store.db, WS, id), customerNextProducts(store.db, WS, id), latestFit(store.db, WS)]);
        if (!v && !cluster) throw new UserError(`no CLV figures for customer ${id}: no such customer, no paid order, or the pipeline has not run (liuke pipeline run)`);
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify({ clv: v, cluster, nextProducts: next, fit: fit ? { model: fit.model, as_of: fit.as_of } : null }, null, 2)}\n`);
          return;
        }
        if (v) {
          process.stdout.write(`customer ${id}, as of ${v.as_of.toISOString().slice(0, 10)} (${v.model})\n`);
          process.stdout.write(
            table([
              ['figure', 'value'],
              ['repeat purchase days / recency / age (days)', `${v.frequency} / ${v.recency_days} / ${v.age_days}`],
              ['P(alive)', f(v.p_alive, 3)],
              ['expected purchases, 90 days', f(v.exp_purchases_90d)],
              ['expected purchases, 12 months', f(v.exp_purchases_365d)],
              ['expected spend per purchase', f(v.exp_avg_spend)],
              ['predicted CLV, 12 months (discounted)', f(v.clv_12m)],
              ['historical CLV', f(v.historical_clv)],
            ]),
          );
        }
        if (cluster) process.stdout.write(`cluster ${cluster.cluster}: ${cluster.description?.en ?? ''}\n`);
        for (const n of next) process.stdout.write(`next ${n.rank}: ${n.product_id} ${n.name ?? ''} (${n.reason}${n.from_product ? ` after ${n.from_product}` : ''}${n.due_at ? `, due ${n.due_at.toISOString().slice(0, 10)}` : ''})\n`);
      });
    });
}

export function registerPredictions(program: Command): void {
  extendClv(program);
  const products = program.command('products').description('product patterns from the pipeline (next-best product)');
  products
    .command('affinities')
    .description('the strongest sequence (A → B with median lag) and co-purchase patterns')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--kind <kind>', 'sequence or co_purchase (default both)')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { format: string; kind?: string; limit: string }) => {
      if (!['table', 'csv', 'json'].includes(opts.format)) throw new UserError(`--format must be table, csv or json, not "${opts.format}"`);
      if (opts.kind && opts.kind !== 'sequence' && opts.kind !== 'co_purchase') throw new UserError(`--kind must be sequence or co_purchase, not "${opts.kind}"`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new UserError('--limit must be a whole number from 1 to 10000');
      await withStore('products affinities', async ({ store }) => {
        const rows = await topAffinities(store.db, WS, { limit, kind: opts.kind as 'sequence' | undefined, minLift: 1 });
        if (opts.format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else if (opts.format === 'csv') {
          const cols = ['kind', 'from_product', 'from_name', 'to_product', 'to_name', 'customers', 'support', 'confidence', 'lift', 'median_lag_days'] as const;
          process.stdout.write(stringify([cols as unknown as string[], ...rows.map((r) => cols.map((c) => r[c] ?? ''))]));
        } else {
          if (rows.length === 0) throw new UserError('no product patterns yet: run the pipeline (liuke pipeline run)');
          process.stdout.write(
            table([
              ['kind', 'from', 'to', 'customers', 'support', 'confidence', 'lift', 'median lag (days)'],
              ...rows.map((r) => [r.kind, `${r.from_product} ${r.from_name ?? ''}`, `${r.to_product} ${r.to_name ?? ''}`, String(r.customers), f(r.support, 4), f(r.confidence, 3), f(r.lift, 2), r.median_lag_days === null ? '' : f(r.median_lag_days, 0)]),
            ]),
          );
        }
      });
    });
  program
    .command('clusters')
    .description('behavioural clusters from the pipeline')
    .command('show')
    .description('the latest clustering: k, silhouette, and each cluster described')
    .option('--format <format>', 'table or json', 'table')
    .option('--lang <lang>', 'en or zh-CN', 'en')
    .action(async (opts: { format: string; lang: string }) => {
      await withStore('clusters show', async ({ store }) => {
        const c = await latestClusters(store.db, WS);
        if (!c) throw new UserError('no clustering yet: run the pipeline (liuke pipeline run --full)');
        if (opts.format === 'json') {
          process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${c.customers.toLocaleString('en')} customers as of ${c.as_of.toISOString().slice(0, 10)}: k = ${c.k}, silhouette ${c.silhouette?.toFixed(3) ?? 'n/a'}\n`);
        for (const p of c.profiles as ClusterProfileOut[]) {
          const d = opts.lang === 'zh-CN' ? p.description.zh : p.description.en;
          process.stdout.write(`${p.cluster}. ${d} — ${p.size.toLocaleString('en')} (${(p.share * 100).toFixed(0)}%)\n`);
        }
      });
    });
}
