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
import { recordAudit } from '../../core/audit/audit.service.ts';
import { activeModel, getModel, listModels, setActive } from '../../core/churn/registry.repository.ts';
import { scoreAll } from '../../core/churn/scoring.ts';
import { ChurnTrainError, type ChurnTrainResult, trainChurn } from '../../core/churn/training.ts';
import { InvalidChurnSettingsError } from '../../core/churn/settings.ts';
import { InvalidScorecardError } from '../../core/churn/scorecard.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

export function registerModel(program: Command): void {
  const model = program.command('model').description('churn models: train and compare (logistic regression, decision tree, gradient boosting)');
  registerModelTrain(model);
  registerModelRegistry(model);
}

interface TrainOpts {
  csv?: string;
  label?: string;
  algorithms?: string;
  cutoffs?: string;
  horizon?: string;
  activate: boolean;
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
    .description(
      'train churn models on the store (stacked cut-offs, validated by time, saved as a new registry version), ' +
        'or with --csv cross-validate models on a labelled CSV and report metrics, the chosen model, its drivers and the tree rules',
    )
    .option('--csv <file>', 'a CSV file with a header row (instead of the store)')
    .option('--label <column>', 'with --csv: the column holding the outcome (e.g. Churn)')
    .option('--algorithms <list>', 'on the store: comma-separated logistic,tree,gbdt (default all three)')
    .option('--cutoffs <n>', 'on the store: monthly cut-offs to stack (default: settings, 12)')
    .option('--horizon <days>', 'on the store: churned = no purchase within this many days after a cut-off (default: settings, 90)')
    .option('--no-activate', 'on the store: save the new version without making it active')
    .option('--positive <value>', 'the label value that counts as positive (needed when the label has more than two values)')
    .option('--cv <k>', 'number of stratified folds', '5')
    .option('--models <list>', 'comma-separated: logistic,tree,gbdt', 'logistic,tree,gbdt')
    .option('--seed <n>', 'random seed (same seed, same folds and models)', '1')
    .option('--format <format>', 'table or json', 'table')
    .option('--lang <lang>', 'language of the tree rules: en or zh-CN', 'en')
    .option('--save <file>', 'write the chosen model (with its column preparation) as JSON')
    .action(async (opts: TrainOpts) => {
      if (!opts.csv) return trainOnStore(opts);
      if (!opts.label) throw new UserError('--csv needs --label <column> (the column holding the outcome)');
      const csvFile = opts.csv;
      const labelColumn = opts.label;
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
        text = readFileSync(csvFile, 'utf8');
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
          label: labelColumn,
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

// ---- churn models on the store: train, list, show, activate, score ----

const f3n = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));

function asUserError(e: unknown): never {
  if (e instanceof ChurnTrainError || e instanceof InvalidChurnSettingsError || e instanceof InvalidScorecardError) throw new UserError(e.message);
  throw e;
}

async function trainOnStore(opts: TrainOpts): Promise<void> {
  const algorithms = opts.algorithms ? [...new Set(opts.algorithms.split(',').map((x) => x.trim()).filter(Boolean))] : undefined;
  const unknown = (algorithms ?? []).filter((m) => !MODEL_KINDS.includes(m as ModelKind));
  if (unknown.length || (algorithms && algorithms.length === 0)) throw new UserError(`--algorithms takes ${MODEL_KINDS.join(', ')}; unknown: ${unknown.join(', ') || '(none given)'}`);
  const cutoffs = opts.cutoffs === undefined ? undefined : Number(opts.cutoffs);
  if (cutoffs !== undefined && !(Number.isInteger(cutoffs) && cutoffs >= 2 && cutoffs <= 60)) throw new UserError(`--cutoffs must be a whole number from 2 to 60, not "${opts.cutoffs}"`);
  const horizon = opts.horizon === undefined ? undefined : Number(opts.horizon);
  if (horizon !== undefined && !(Number.isInteger(horizon) && horizon >= 7 && horizon <= 730)) throw new UserError(`--horizon must be a whole number of days from 7 to 730, not "${opts.horizon}"`);
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed)) throw new UserError(`--seed must be a whole number, not "${opts.seed}"`);
  if (opts.format !== 'table' && opts.format !== 'json') throw new UserError(`--format must be table or json, not "${opts.format}"`);
  const server = await runningServer();
  if (server) {
    // The running server holds the embedded store: train there, as a queued job.
    const res = await fetch(`${server.serverUrl}/api/models/train`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.localToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...(algorithms ? { algorithms } : {}), ...(cutoffs !== undefined ? { cutoffs } : {}), ...(horizon !== undefined ? { horizon_days: horizon } : {}), activate: opts.activate }),
    });
    if (!res.ok) throw new UserError(`the running server refused: ${res.status} ${await res.text()}`);
    const job = (await res.json()) as { jobId: number };
    process.stdout.write(`queued on the running server as job ${job.jobId} (model.train); see the result with \`liuke model list\` when it is done\n`);
    return;
  }
  await withStore('model train', async ({ store }) => {
    const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'training [{bar}] {value}/{total} {what}', clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
    let r: ChurnTrainResult;
    try {
      r = await trainChurn(store.db, {
        workspaceId: DEFAULT_WORKSPACE_ID,
        now: new Date(),
        actor: 'cli',
        seed,
        activate: opts.activate,
        ...(algorithms ? { algorithms: algorithms as ModelKind[] } : {}),
        ...(cutoffs !== undefined ? { cutoffs } : {}),
        ...(horizon !== undefined ? { horizonDays: horizon } : {}),
        onProgress: (done, total, what) => {
          if (!bar) return;
          if (done === 1) bar.start(total, 0, { what });
          bar.update(done, { what });
        },
      });
    } catch (e) {
      bar?.stop();
      asUserError(e);
    }
    bar?.stop();
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    process.stdout.write(formatStoreTrain(r));
  });
}

export function formatStoreTrain(r: ChurnTrainResult): string {
  const out: string[] = [];
  out.push(`trained on ${r.rows.train.toLocaleString('en')} rows from ${r.cutoffs.train.length} cut-offs (${r.cutoffs.train[0]!.slice(0, 10)} … ${r.cutoffs.train.at(-1)!.slice(0, 10)}), tested on ${r.rows.test.toLocaleString('en')} rows as of ${r.cutoffs.test.slice(0, 10)}\n\n`);
  const truth = r.candidates.some((c) => c.truthRocAuc !== null);
  const head = ['model', 'ROC-AUC', 'PR-AUC', 'log loss', 'Brier', ...(truth ? ['ROC-AUC vs truth'] : [])];
  const row = (c: ChurnTrainResult['candidates'][number], mark: string) => [c.name + mark, f3n(c.rocAuc), f3n(c.prAuc), f3n(c.logLoss), f3n(c.brier), ...(truth ? [f3n(c.truthRocAuc)] : [])];
  out.push(table(head, [...r.candidates.map((c) => row(c, c.name === r.algorithm ? ' *' : '')), ...r.baselines.map((b) => row(b, ' (baseline)'))]));
  out.push(`\nselected: ${r.algorithm}, calibrated (Platt): log loss ${f3n(r.selected.calibrated.logLoss)}, Brier ${f3n(r.selected.calibrated.brier)}\n`);
  out.push(`saved as model ${r.modelId} (version ${r.version}): ${r.note}\n`);
  return out.join('');
}

function registerModelRegistry(model: Command): void {
  model
    .command('list')
    .description('the churn models in the registry, newest first (* = active)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withStore('model list', async ({ store }) => {
        const rows = await listModels(store.db, DEFAULT_WORKSPACE_ID);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows.map(({ metrics: _m, ...x }) => x), null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no churn models yet: train one with `liuke model train`\n');
          return;
        }
        const sel = (m: unknown) => (m as { selected?: { rocAuc?: number; truthRocAuc?: number | null } }).selected ?? {};
        process.stdout.write(
          table(
            ['id', 'version', 'algorithm', 'active', 'ROC-AUC', 'vs truth', 'rows', 'trained at', 'by'],
            rows.map((m) => [String(m.id), String(m.version), m.algorithm, m.active ? '*' : '', f3n(sel(m.metrics).rocAuc), f3n(sel(m.metrics).truthRocAuc), String(m.rows), m.trained_at.toISOString().slice(0, 16), m.trained_by]),
          ),
        );
      });
    });

  model
    .command('show')
    .description('one model: metrics against the baselines, lift, calibration, what drives it, the tree rules')
    .argument('<id>', 'model id (see liuke model list)')
    .option('--lang <lang>', 'en or zh-CN (tree rules)', 'en')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { lang: string; json?: boolean }) => {
      const n = Number(id);
      if (!Number.isInteger(n)) throw new UserError(`model id must be a whole number, not "${id}"`);
      if (opts.lang !== 'en' && opts.lang !== 'zh-CN') throw new UserError(`--lang must be en or zh-CN, not "${opts.lang}"`);
      await withStore('model show', async ({ store }) => {
        const m = await getModel(store.db, DEFAULT_WORKSPACE_ID, n);
        if (!m) throw new UserError(`there is no model ${id}: see liuke model list`);
        const { model: _model, ...rest } = m;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
          return;
        }
        type Ev = { name: string; rocAuc: number; prAuc: number; logLoss: number; brier: number; truthRocAuc: number | null };
        const mt = m.metrics as {
          testCutoff?: string;
          candidates?: Ev[];
          baselines?: Ev[];
          lift?: { decile: number; rows: number; rate: number; lift: number; cumulativeGain: number; meanPredicted: number }[];
          calibration?: { bin: number; rows: number; meanPredicted: number; observedRate: number }[];
          importance?: Record<string, { measure: string; items: { feature: string; value: number }[] }>;
          rules?: Record<string, { text: string }[]> | null;
        };
        const out: string[] = [];
        out.push(`model ${m.id}: version ${m.version}, ${m.algorithm}${m.active ? ' (active)' : ''}, ${m.rows.toLocaleString('en')} rows, cut-offs ${m.window_from.toISOString().slice(0, 10)} … ${m.window_to.toISOString().slice(0, 10)}, trained ${m.trained_at.toISOString().slice(0, 16)} by ${m.trained_by}\n\n`);
        out.push(table(['model', 'ROC-AUC', 'PR-AUC', 'log loss', 'Brier', 'vs truth'], [...(mt.candidates ?? []), ...(mt.baselines ?? [])].map((c) => [c.name, f3n(c.rocAuc), f3n(c.prAuc), f3n(c.logLoss), f3n(c.brier), f3n(c.truthRocAuc)])));
        out.push(`\nlift by decile (test cut-off ${String(mt.testCutoff ?? '').slice(0, 10)}, calibrated):\n`);
        out.push(table(['decile', 'rows', 'rate', 'lift', 'cum. gain', 'predicted'], (mt.lift ?? []).map((d) => [String(d.decile), String(d.rows), f3n(d.rate), d.lift.toFixed(2), `${(d.cumulativeGain * 100).toFixed(0)}%`, f3n(d.meanPredicted)])));
        out.push('\ncalibration (lowest predicted first):\n');
        out.push(table(['bin', 'rows', 'predicted', 'observed'], (mt.calibration ?? []).map((c) => [String(c.bin), String(c.rows), f3n(c.meanPredicted), f3n(c.observedRate)])));
        for (const [k, imp] of Object.entries(mt.importance ?? {})) {
          out.push(`\ntop features, ${k}: ${imp.measure}\n`);
          out.push(table(['feature', 'value'], imp.items.slice(0, 10).map((i) => [i.feature, i.value.toFixed(3)])));
        }
        const rules = mt.rules?.[opts.lang];
        if (rules?.length) out.push(`\n${opts.lang === 'zh-CN' ? '决策树规则' : 'decision tree rules'}:\n${rules.map((r) => `  - ${r.text}`).join('\n')}\n`);
        process.stdout.write(out.join(''));
      });
    });

  model
    .command('activate')
    .description('make a model the active churn model (audited)')
    .argument('<id>', 'model id')
    .action(async (id: string) => {
      const n = Number(id);
      if (!Number.isInteger(n)) throw new UserError(`model id must be a whole number, not "${id}"`);
      await withStore('model activate', async ({ store }) => {
        const m = await getModel(store.db, DEFAULT_WORKSPACE_ID, n);
        if (!m) throw new UserError(`there is no model ${id}: see liuke model list`);
        await store.db.transaction().execute(async (trx) => {
          const before = await setActive(trx, DEFAULT_WORKSPACE_ID, n);
          await recordAudit(trx, { workspaceId: DEFAULT_WORKSPACE_ID, actor: 'cli', action: 'activate', entity: 'model', entityId: String(n), before: { active: before }, after: { active: n } });
        });
        process.stdout.write(`model ${n} (version ${m.version}, ${m.algorithm}) is now the active churn model; \`liuke model score\` or the next pipeline run scores with it\n`);
      });
    });

  model
    .command('score')
    .description('score every customer now with the active model (and the scorecard): the churn_scoring pipeline step')
    .action(async () => {
      await withStore('model score', async ({ store }) => {
        const active = await activeModel(store.db, DEFAULT_WORKSPACE_ID);
        try {
          const r = await scoreAll(store.db, DEFAULT_WORKSPACE_ID, new Date());
          process.stdout.write(`${r.message}\n`);
          if (!active) return;
          process.stdout.write(`features ${r.seconds.features.toFixed(1)} s, model and explanations ${r.seconds.model.toFixed(1)} s, writing ${r.seconds.write.toFixed(1)} s\n`);
        } catch (e) {
          asUserError(e);
        }
      });
    });
}
