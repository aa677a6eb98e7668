// liuke clv fit: fits the CLV models on a summary CSV or on raw transactions, with no
// database. Prints parameters, log-likelihood and fit time, and for a holdout the backtest.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { type Backtest, backtestPredictions } from '../../core/clv/backtest.ts';
import { fitBgNbd } from '../../core/clv/bgnbd.ts';
import { type PurchaseModel, predictedClv } from '../../core/clv/clv.ts';
import { fitGammaGamma } from '../../core/clv/gammagamma.ts';
import { fitParetoNbd } from '../../core/clv/paretonbd.ts';
import { type CustomerSummary, dayNumber, summarizeColumns, type TimeUnit } from '../../core/clv/summary.ts';
import type { RfmData } from '../../core/clv/types.ts';
import { UserError } from '../context.ts';

const MODELS = ['bgnbd', 'pareto-nbd', 'gamma-gamma'] as const;
type Model = (typeof MODELS)[number];

interface FitOpts {
  summary?: string;
  transactions?: string;
  model?: string;
  format?: string;
  calibrationEnd?: string;
  holdoutEnd?: string;
  customerCol?: string;
  dateCol?: string;
  amountCol?: string;
  timeUnit?: string;
  horizonMonths?: string;
  discount?: string;
  margin?: string;
}

/** Reads a CSV (comma, semicolon or tab, guessed from the header) into records; UserError when unreadable. */
function readCsv(file: string): { header: string[]; rows: string[][] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const firstLine = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length);
  const delimiter = [',', ';', '\t'].reduce((best, d) => (firstLine.split(d).length > firstLine.split(best).length ? d : best), ',');
  let records: string[][];
  try {
    records = parse(text, { delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new UserError(`${file} is not a readable CSV: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new UserError(`${file} is empty`);
  return { header: records[0]!, rows: records.slice(1) };
}

/** Index of the first header matching one of the names (case-insensitive), or −1. */
function findColumn(header: string[], names: string[]): number {
  const lower = header.map((h) => h.toLowerCase());
  for (const n of names) {
    const i = lower.indexOf(n.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}

function requireColumn(file: string, header: string[], names: string[], what: string): number {
  const i = findColumn(header, names);
  if (i < 0) throw new UserError(`${file} has no ${what} column (looked for ${names.join(', ')}; it has ${header.join(', ')})`);
  return i;
}

function numbers(file: string, rows: string[][], col: number, name: string, nonNegative = true): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]![col] ?? '';
    const v = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(v) || (nonNegative && v < 0)) {
      throw new UserError(`${file} row ${i + 2}: ${name} "${raw}" is not a ${nonNegative ? 'non-negative ' : ''}number`);
    }
    out[i] = v;
  }
  return out;
}

function readSummary(file: string, needSpend: boolean): { ids: string[]; rfm: RfmData; monetary?: Float64Array } {
  const { header, rows } = readCsv(file);
  if (rows.length === 0) throw new UserError(`${file} has a header but no customers`);
  const fi = requireColumn(file, header, ['frequency', 'x', 'frequency_cal'], 'frequency');
  const mi = findColumn(header, ['monetary', 'monetary_value', 'zbar', 'monetary_value_cal']);
  if (needSpend && mi < 0) throw new UserError(`${file} has no monetary column (looked for monetary, monetary_value, zbar; it has ${header.join(', ')})`);
  const idi = findColumn(header, ['id', 'customer_id', 'customer']);
  const frequency = numbers(file, rows, fi, header[fi]!);
  const monetary = mi >= 0 ? numbers(file, rows, mi, header[mi]!) : undefined;
  const ids = rows.map((r, i) => (idi >= 0 ? (r[idi] ?? String(i + 1)) : String(i + 1)));
  if (needSpend) return { ids, rfm: { frequency, recency: new Float64Array(rows.length), T: new Float64Array(rows.length) }, monetary };
  const ri = requireColumn(file, header, ['recency', 't_x', 'recency_cal'], 'recency');
  const ti = requireColumn(file, header, ['T', 'T_cal', 'age'], 'T');
  const recency = numbers(file, rows, ri, header[ri]!);
  const T = numbers(file, rows, ti, header[ti]!);
  for (let i = 0; i < rows.length; i++) {
    if (recency[i]! > T[i]! + 1e-9) throw new UserError(`${file} row ${i + 2}: recency ${recency[i]} is after T ${T[i]}`);
    if (frequency[i]! > 0 && !(T[i]! > 0)) throw new UserError(`${file} row ${i + 2}: T must be positive for a customer with repeat purchases`);
  }
  return { ids, rfm: { frequency, recency, T }, monetary };
}

function readTransactions(file: string, opts: FitOpts, unit: TimeUnit): CustomerSummary {
  const { header, rows } = readCsv(file);
  if (!opts.calibrationEnd) throw new UserError('--transactions needs --calibration-end YYYY-MM-DD');
  const ci = requireColumn(file, header, [opts.customerCol ?? 'customer_id'], 'customer (--customer-col)');
  const di = requireColumn(file, header, [opts.dateCol ?? 'date'], 'date (--date-col)');
  const ai = opts.amountCol ? requireColumn(file, header, [opts.amountCol], 'amount (--amount-col)') : -1;
  const ids: string[] = new Array(rows.length);
  const days = new Float64Array(rows.length);
  const amounts = ai >= 0 ? numbers(file, rows, ai, header[ai]!, false) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const id = r[ci] ?? '';
    if (id === '') throw new UserError(`${file} row ${i + 2}: no ${header[ci]}`);
    ids[i] = id;
    const d = dayNumber(r[di]);
    if (Number.isNaN(d)) throw new UserError(`${file} row ${i + 2}: ${header[di]} "${r[di] ?? ''}" is not a date (YYYY-MM-DD)`);
    days[i] = d;
  }
  for (const [flag, v] of [['--calibration-end', opts.calibrationEnd], ['--holdout-end', opts.holdoutEnd]] as const) {
    if (v !== undefined && Number.isNaN(dayNumber(v))) throw new UserError(`${flag} "${v}" is not a date (YYYY-MM-DD)`);
  }
  if (opts.holdoutEnd && dayNumber(opts.holdoutEnd) <= dayNumber(opts.calibrationEnd)) throw new UserError('--holdout-end must be after --calibration-end');
  const s = summarizeColumns({ ids, days, amounts }, { calibrationEnd: opts.calibrationEnd, observationEnd: opts.holdoutEnd, timeUnit: unit });
  if (s.ids.length === 0) throw new UserError(`no customer in ${file} bought on or before ${opts.calibrationEnd}`);
  return s;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toPrecision(6));

function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? '').length)));
  return cells.map((r) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ')).join('\n');
}

interface FitReport {
  model: Model;
  params: Record<string, number>;
  logLikelihood: number;
  customers: number;
  fitMs: number;
  converged: boolean;
  warnings: string[];
}

function printReport(reports: FitReport[], backtest: Backtest | undefined, clv: { horizonMonths: number; total: number; mean: number } | undefined, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ fits: reports, backtest, clv }, null, 2)}\n`);
    return;
  }
  for (const r of reports) {
    process.stdout.write(`${r.model}: ${r.customers.toLocaleString('en')} customers, fitted in ${r.fitMs.toFixed(1)} ms${r.converged ? '' : ' (not converged)'}\n`);
    process.stdout.write(`${table([...Object.entries(r.params).map(([k, v]) => [k, v]), ['log-likelihood', r.logLikelihood]])}\n`);
    for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
    process.stdout.write('\n');
  }
  if (backtest) {
    process.stdout.write(`holdout backtest (${backtest.model}, ${Number(backtest.duration.toFixed(2))} ${backtest.timeUnit}): purchases per customer in the holdout\n`);
    const rows: (string | number)[][] = [['repeat purchases in calibration', 'customers', 'actual', 'predicted']];
    for (const g of backtest.groups) rows.push([g.frequency, String(g.customers), g.actualMean, g.predictedMean]);
    process.stdout.write(`${table(rows)}\n`);
    const t = backtest.totals;
    process.stdout.write(`total purchases: actual ${t.actual}, predicted ${t.predicted.toFixed(1)} (${t.errorPercent >= 0 ? '+' : ''}${t.errorPercent.toFixed(1)}%)\n`);
    process.stdout.write(`mean absolute error per customer: ${backtest.meanAbsoluteError.toFixed(3)}\n`);
  }
  if (clv) process.stdout.write(`\npredicted CLV over ${clv.horizonMonths} months: total ${clv.total.toFixed(2)}, mean per customer ${clv.mean.toFixed(2)}\n`);
}

function purchaseReport(model: 'bgnbd' | 'pareto-nbd', rfm: RfmData): { report: FitReport; fitted: PurchaseModel } {
  try {
    if (model === 'bgnbd') {
      const f = fitBgNbd(rfm);
      return { report: { model, ...f, params: { ...f.params } }, fitted: { model, params: f.params } };
    }
    const f = fitParetoNbd(rfm);
    return { report: { model, ...f, params: { ...f.params } }, fitted: { model, params: f.params } };
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

function parseNumber(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`${flag} must be a non-negative number, not "${v}"`);
  return n;
}

export function registerClv(program: Command): void {
  const clv = program.command('clv').description('customer lifetime value models (BG/NBD, Pareto/NBD, Gamma-Gamma); no database needed');
  clv
    .command('fit')
    .description('fit a model on a summary CSV (frequency, recency, T[, monetary]) or on raw transactions')
    .option('--summary <file>', 'per-customer summary CSV: frequency|x, recency|t_x, T, monetary|zbar')
    .option('--transactions <file>', 'transactions CSV: one row per purchase')
    .option('--model <model>', `bgnbd, pareto-nbd or gamma-gamma (with --transactions: the purchase model, default bgnbd)`)
    .option('--format <format>', 'table or json', 'table')
    .option('--calibration-end <date>', 'last day of the calibration period (with --transactions)')
    .option('--holdout-end <date>', 'last day of the holdout period: prints a backtest')
    .option('--customer-col <name>', 'customer id column', 'customer_id')
    .option('--date-col <name>', 'purchase date column', 'date')
    .option('--amount-col <name>', 'purchase amount column (fits Gamma-Gamma and CLV too)')
    .option('--time-unit <unit>', 'weeks or days', 'weeks')
    .option('--horizon-months <n>', 'CLV horizon in months', '12')
    .option('--discount <rate>', 'monthly discount rate for CLV', '0.01')
    .option('--margin <share>', 'profit margin for CLV', '1')
    .action(async (opts: FitOpts) => {
      if (opts.format !== 'table' && opts.format !== 'json') throw new UserError(`--format must be table or json, not "${opts.format}"`);
      const json = opts.format === 'json';
      if (opts.model !== undefined && !(MODELS as readonly string[]).includes(opts.model)) {
        throw new UserError(`--model must be one of ${MODELS.join(', ')}, not "${opts.model}"`);
      }
      if (Boolean(opts.summary) === Boolean(opts.transactions)) throw new UserError('give either --summary FILE or --transactions FILE');
      if (opts.timeUnit !== 'weeks' && opts.timeUnit !== 'days') throw new UserError(`--time-unit must be weeks or days, not "${opts.timeUnit}"`);
      if (opts.summary) {
        const model = (opts.model ?? 'bgnbd') as Model;
        if (model === 'gamma-gamma') {
          const s = readSummary(opts.summary, true);
          const f = fitGammaGamma({ frequency: s.rfm.frequency, monetary: s.monetary! });
          printReport([{ model, ...f, params: { ...f.params } }], undefined, undefined, json);
          return;
        }
        const s = readSummary(opts.summary, false);
        printReport([purchaseReport(model, s.rfm).report], undefined, undefined, json);
        return;
      }
      const model = (opts.model ?? 'bgnbd') as Model;
      if (model === 'gamma-gamma') throw new UserError('with --transactions, --model names the purchase model (bgnbd or pareto-nbd); Gamma-Gamma is fitted too when --amount-col is given');
      const s = readTransactions(opts.transactions!, opts, opts.timeUnit);
      const { report, fitted } = purchaseReport(model, s);
      const reports = [report];
      let clvOut: { horizonMonths: number; total: number; mean: number } | undefined;
      if (opts.amountCol) {
        const g = fitGammaGamma({ frequency: s.frequency, monetary: s.monetary });
        reports.push({ model: 'gamma-gamma', ...g, params: { ...g.params } });
        if (g.customers > 0 && g.params.q > 1) {
          const horizonMonths = Math.floor(parseNumber('--horizon-months', opts.horizonMonths, 12));
          const values = predictedClv(fitted, g.params, s, {
            horizonMonths,
            monthlyDiscountRate: parseNumber('--discount', opts.discount, 0.01),
            margin: parseNumber('--margin', opts.margin, 1),
            timeUnit: opts.timeUnit,
          });
          let total = 0;
          for (const v of values) total += v;
          clvOut = { horizonMonths, total, mean: total / values.length };
        }
      }
      const backtest = s.holdout ? backtestPredictions(s, fitted) : undefined;
      printReport(reports, backtest, clvOut, json);
    });
}
