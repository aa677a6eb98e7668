// liuke model …: churn models. `train` cross-validates models on a labelled
// CSV and reports them; registry subcommands (list, show, activate, score) hang
// off the same `model` command: add a register…(model) function below.
import { readFileSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parseCsv } from '../../core/ml/dataset.ts';
import type { Lang } from '../../core/ml/rules.ts';
import { MODEL_KINDS, type ModelKind } from '../../core/ml/select.ts';
import { type TrainReport, TrainInputError, train } from '../../core/ml/train.ts';
import { UserError } from '../context.ts';

export function registerModel(program: Command): void {
  const model = program.command('model').description('churn models: train and compare (logistic regression, decision tree, gradient boosting)');
  registerModelTrain(model);
}

interface TrainOpts {
  csv: string;
  label: string;
  positive?: string;
  cv: string;
  models: string;
  seed: string;
  format: string;
  lang: string;
  save?: string;
}

function registerModelTrain(model: Command): void {
  model
    .command('train')
    .description('cross-validate models on a labelled CSV and report metrics, the chosen model, its drivers and the tree rules')
    .requiredOption('--csv <file>', 'a CSV file with a header row')
    .requiredOption('--label <column>', 'the column holding the outcome (e.g. Churn)')
    .option('--positive <value>', 'the label value that counts as positive (needed when the label has more than two values)')
    .option('--cv <k>', 'number of stratified folds', '5')
    .option('--models <list>', 'comma-separated: logistic,tree,gbdt', 'logistic,tree,gbdt')
    .option('--seed <n>', 'random seed (same seed, same folds and models)', '1')
    .option('--format <format>', 'table or json', 'table')
    .option('--lang <lang>', 'language of the tree rules: en or zh-CN', 'en')
    .option('--save <file>', 'write the chosen model (with its column preparation) as JSON')
    .action((opts: TrainOpts) => {
      const k = Number(opts.cv);
      if (!Number.isInteger(k) || k < 2 || k > 20) throw new UserError(`--cv must be a whole number from 2 to 20, not "${opts.cv}"`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw new UserError(`--seed must be a whole number, not "${opts.seed}"`);
      if (opts.format !== 'table' && opts.format !== 'json') throw new UserError(`--format must be table or json, not "${opts.format}"`);
      if (opts.lang !== 'en' && opts.lang !== 'zh-CN') throw new UserError(`--lang must be en or zh-CN, not "${opts.lang}"`);
      const models = [...new Set(opts.models.split(',').map((s) => s.trim()).filter(Boolean))];
      const unknown = models.filter((m) => !MODEL_KINDS.includes(m as ModelKind));
      if (unknown.length || models.length === 0) throw new UserError(`--models takes ${MODEL_KINDS.join(', ')}; unknown: ${unknown.join(', ') || '(none given)'}`);
      let text: string;
      try {
        text = readFileSync(opts.csv, 'utf8');
      } catch (e) {
        throw new UserError(`cannot read ${opts.csv}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      let table: ReturnType<typeof parseCsv>;
      try {
        table = parseCsv(text);
      } catch (e) {
        throw new UserError(`${opts.csv} is not a readable CSV: ${(e as Error).message}`);
      }
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'training [{bar}] {value}/{total} {what}', clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
      let report: TrainReport;
      try {
        report = train({
          table,
          label: opts.label,
          positive: opts.positive,
          folds: k,
          models: models as ModelKind[],
          seed,
          lang: opts.lang,
          onProgress: (done, total, what) => {
            if (!bar) return;
            if (done === 1) bar.start(total, 0, { what });
            bar.update(done, { what });
          },
        });
      } catch (e) {
        bar?.stop();
        if (e instanceof TrainInputError) throw new UserError(e.message);
        throw e;
      }
      bar?.stop();
      if (opts.save) writeFileSync(opts.save, JSON.stringify(report.artifact));
      if (opts.format === 'json') {
        const { artifact: _a, ...rest } = report;
        process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      } else process.stdout.write(formatReport(report, opts.lang as Lang));
      if (opts.save) process.stderr.write(`saved the ${report.selected} model to ${opts.save}\n`);
    });
}

const f3 = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  ');
  return `${[line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n')}\n`;
}

export function formatReport(r: TrainReport, lang: Lang): string {
  const out: string[] = [];
  out.push(`${r.rows.toLocaleString('en')} rows, label "${r.label.column}": ${r.label.positives} positive (${r.label.note}), ${r.features} features\n`);
  if (r.decisions.length) out.push(`\nWhat was done to the columns:\n${r.decisions.map((d) => `  - ${d}`).join('\n')}\n`);
  out.push(`\n${r.folds}-fold stratified cross-validation (seed ${r.seed}), mean ± std across folds:\n`);
  const pm = (m: { mean: number; std: number }) => `${f3(m.mean)} ± ${f3(m.std)}`;
  out.push(
    table(
      ['model', 'ROC-AUC', 'PR-AUC', 'log loss', 'Brier', 'seconds'],
      r.cv.map((c) => [c.kind + (c.kind === r.selected ? ' *' : ''), pm(c.rocAuc), pm(c.prAuc), pm(c.logLoss), pm(c.brier), c.seconds.toFixed(1)]),
    ),
  );
  out.push(`\nselected: ${r.selected} (${r.selectionRule})\n`);
  for (const [kind, t] of Object.entries(r.topFeatures)) {
    if (!t) continue;
    out.push(`\ntop features, ${kind === 'shap' ? 'explanations' : kind}: ${t.measure}\n`);
    out.push(table(['feature', 'value'], t.items.map((i) => [i.feature, i.value.toFixed(3)])));
  }
  out.push(`\nlift by decile of the ${r.selected} model (out-of-fold):\n`);
  out.push(
    table(
      ['decile', 'rows', 'rate', 'lift', 'cum. gain', 'predicted'],
      r.lift.map((d) => [String(d.decile), String(d.rows), f3(d.rate), d.lift.toFixed(2), `${(d.cumulativeGain * 100).toFixed(0)}%`, f3(d.meanPredicted)]),
    ),
  );
  if (r.rules) {
    out.push(`\n${lang === 'zh-CN' ? '决策树规则' : 'decision tree rules'}:\n`);
    out.push(`${r.rules.map((x) => `  - ${x.text}`).join('\n')}\n`);
  }
  return out.join('');
}
