// Training churn models on the store: stacked monthly cut-offs with
// point-in-time features and the label "no purchase within the horizon",
// validated by time (train on the older cut-offs, test on the newest whose
// horizon has fully passed), compared with two baselines (recency alone and the
// scorecard), the best calibrated (Platt) and saved as a new registry version.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { type Calibrator, calibrateAll, fitPlatt } from '../ml/calibration.ts';
import { timeSplit } from '../ml/cv.ts';
import { type Matrix, matrix, median, takeRows, takeValues } from '../ml/matrix.ts';
import { type BinaryMetrics, binaryMetrics, calibrationTable, liftTable, rocAuc } from '../ml/metrics.ts';
import { type Lang, treeRules } from '../ml/rules.ts';
import { explain, fitModel, type Inputs, MODEL_KINDS, type Model, type ModelKind, predict } from '../ml/select.ts';
import type { GbdtOptions } from '../ml/gbdt.ts';
import { gainImportance } from '../ml/tree.ts';
import { meanAbs } from '../ml/treeshap.ts';
import { FEATURE_KEYS, FEATURES, type FeatureSet, loadFeatures } from './features.ts';
import { insertModel, setActive, type StoredModel } from './registry.repository.ts';
import { loadChurnContext } from './settings.ts';

const DAY = 86_400_000;

export class ChurnTrainError extends Error {}

export interface ChurnTrainRequest {
  workspaceId: number;
  now: Date;
  actor: string;
  algorithms?: ModelKind[];
  cutoffs?: number;
  horizonDays?: number;
  seed?: number;
  /** options for the boosted trees (default: the ML core's defaults) */
  gbdt?: GbdtOptions;
  /** activate the new version when it beats both baselines (default true) */
  activate?: boolean;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface Evaluated extends BinaryMetrics {
  name: string;
  /** ROC-AUC against the demo generator's ground truth (demo_truth), when it has rows */
  truthRocAuc: number | null;
}

export interface ChurnTrainResult {
  modelId: number;
  version: number;
  algorithm: ModelKind;
  active: boolean;
  beatsBaselines: boolean;
  rows: { train: number; test: number };
  cutoffs: { train: string[]; test: string };
  candidates: Evaluated[];
  baselines: Evaluated[];
  selected: Evaluated & { calibrated: BinaryMetrics };
  note: string;
}

/** The cut-offs: the newest whose horizon has fully passed, then one every step back. Oldest first. */
export function cutoffDates(now: Date, horizonDays: number, n: number, stepDays: number): Date[] {
  const day0 = Math.floor(now.getTime() / DAY) * DAY;
  const newest = day0 - horizonDays * DAY;
  return Array.from({ length: n }, (_, k) => new Date(newest - (n - 1 - k) * stepDays * DAY));
}

export function mediansOf(x: Matrix): number[] {
  const out: number[] = [];
  for (let j = 0; j < x.cols; j++) {
    const v: number[] = [];
    for (let i = 0; i < x.rows; i++) {
      const a = x.data[i * x.cols + j]!;
      if (!Number.isNaN(a)) v.push(a);
    }
    out.push(v.length ? median(v) : 0);
  }
  return out;
}

export function imputed(x: Matrix, medians: number[]): Matrix {
  const out = matrix(x.rows, x.cols, x.names);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    out.data[i] = Number.isNaN(v) ? medians[i % x.cols]! : v;
  }
  return out;
}

function stack(sets: FeatureSet[]): { x: Matrix; y: Float64Array; truth: Float64Array; cutoff: string[]; points: Float64Array } {
  const n = sets.reduce((s, f) => s + f.ids.length, 0);
  const x = matrix(n, FEATURE_KEYS.length, [...FEATURE_KEYS]);
  const y = new Float64Array(n);
  const truth = new Float64Array(n).fill(Number.NaN);
  const points = new Float64Array(n);
  const cutoff: string[] = new Array(n);
  let r = 0;
  for (const f of sets) {
    x.data.set(f.x.data, r * x.cols);
    y.set(f.label!, r);
    if (f.truth) truth.set(f.truth, r);
    if (f.scorecard) points.set(f.scorecard.points, r);
    cutoff.fill(f.cutoff.toISOString(), r, r + f.ids.length);
    r += f.ids.length;
  }
  return { x, y, truth, cutoff, points };
}

function positives(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]!;
  return s;
}

/** ROC-AUC against the truth on the rows that have one. */
function truthAuc(truth: Float64Array, score: ArrayLike<number>): number | null {
  const idx: number[] = [];
  for (let i = 0; i < truth.length; i++) if (!Number.isNaN(truth[i]!)) idx.push(i);
  if (idx.length === 0) return null;
  const t = takeValues(truth, idx);
  const p = takeValues(score, idx);
  const a = rocAuc(t, p);
  return Number.isNaN(a) ? null : a;
}

function top(values: ArrayLike<number>, n = 15) {
  return Array.from(values, (value, j) => ({ feature: FEATURE_KEYS[j]!, value }))
    .filter((f) => f.value !== 0 && Number.isFinite(f.value))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .slice(0, n);
}

const INTEGER_UNITS = new Set(['orders', 'events', 'tickets', 'responses', 'count', 'stage']);

export function rulesFor(model: Model, lang: Lang) {
  if (model.type !== 'tree') return undefined;
  const infos = FEATURES.map((f) => ({ name: f.key, source: lang === 'zh-CN' ? f.zh : f.en, kind: 'numeric' as const, integer: INTEGER_UNITS.has(f.unit) }));
  return treeRules(model.nodes, infos, lang);
}

export async function trainChurn(db: Kysely<Database>, req: ChurnTrainRequest): Promise<ChurnTrainResult> {
  const ctx = await loadChurnContext(db, req.workspaceId);
  const horizon = req.horizonDays ?? ctx.churn.horizonDays;
  const nCut = req.cutoffs ?? ctx.churn.cutoffs;
  const seed = req.seed ?? 1;
  const kinds = req.algorithms?.length ? req.algorithms : MODEL_KINDS;
  if (!Number.isInteger(nCut) || nCut < 2 || nCut > 60) throw new ChurnTrainError('cutoffs must be a whole number from 2 to 60');
  if (!Number.isInteger(horizon) || horizon < 7 || horizon > 730) throw new ChurnTrainError('the horizon must be a whole number of days from 7 to 730');
  const hasTruth = Boolean(await db.selectFrom('demo_truth').select('customer_id').where('workspace_id', '=', req.workspaceId).limit(1).executeTakeFirst());
  const dates = cutoffDates(req.now, horizon, nCut, ctx.churn.cutoffStepDays);
  const total = dates.length + kinds.length + 2;
  let done = 0;
  const sets: FeatureSet[] = [];
  for (const cutoff of dates) {
    const f = await loadFeatures(db, {
      workspaceId: req.workspaceId,
      cutoff,
      analytics: ctx.analytics,
      label: { horizonDays: horizon, basis: ctx.churn.basis },
      ...(hasTruth ? { truth: { horizonDays: horizon } } : {}),
      scorecard: ctx.scorecard,
    });
    req.onProgress?.(++done, total, `features as of ${cutoff.toISOString().slice(0, 10)}`);
    if (f.ids.length > 0) sets.push(f);
  }
  if (sets.length < 2) {
    throw new ChurnTrainError(`training needs customers who had bought by at least two cut-offs; the store has them at ${sets.length} of the ${dates.length} cut-offs (newest ${dates.at(-1)!.toISOString().slice(0, 10)} = today − ${horizon} days)`);
  }
  const all = stack(sets);
  const split = timeSplit(all.cutoff, 1);
  const yTrain = takeValues(all.y, split.train);
  const yTest = takeValues(all.y, split.test);
  const pTrain = positives(yTrain);
  const pTest = positives(yTest);
  if (split.train.length < 50 || pTrain < 5 || split.train.length - pTrain < 5) {
    throw new ChurnTrainError(`too little history to train: ${split.train.length} rows on the older cut-offs with ${pTrain} churners; load more history or lower --horizon`);
  }
  if (pTest < 2 || split.test.length - pTest < 2) throw new ChurnTrainError(`the test cut-off (${split.testCutoffs[0]}) needs both churners and stayers; it has ${pTest} of ${split.test.length}`);

  const xTrainRaw = takeRows(all.x, split.train);
  const xTestRaw = takeRows(all.x, split.test);
  const medians = mediansOf(xTrainRaw);
  const train: Inputs = { raw: xTrainRaw, imputed: imputed(xTrainRaw, medians) };
  const test: Inputs = { raw: xTestRaw, imputed: imputed(xTestRaw, medians) };
  const truthTest = takeValues(all.truth, split.test);

  const evaluate = (name: string, p: ArrayLike<number>): Evaluated => ({ name, ...binaryMetrics(yTest, p), truthRocAuc: hasTruth ? truthAuc(truthTest, p) : null });
  const fitted = new Map<ModelKind, { model: Model; p: Float64Array; seconds: number }>();
  const candidates: Evaluated[] = [];
  for (const kind of kinds) {
    const t0 = performance.now();
    const model = fitModel(kind, train, yTrain, { seed, ...(req.gbdt ? { gbdt: req.gbdt } : {}) });
    const p = predict(model, test);
    fitted.set(kind, { model, p, seconds: (performance.now() - t0) / 1000 });
    candidates.push(evaluate(kind, p));
    req.onProgress?.(++done, total, kind);
  }
  // Baselines: recency alone (longer silence, more risk) and the scorecard's points. Not probabilities: ranking metrics only.
  const rec = FEATURE_KEYS.indexOf('recency_days');
  const recency = Float64Array.from({ length: test.raw.rows }, (_, i) => test.raw.data[i * test.raw.cols + rec]!);
  const rank = (name: string, s: Float64Array): Evaluated => {
    const e = evaluate(name, s);
    return { ...e, logLoss: Number.NaN, brier: Number.NaN };
  };
  const baselines = [rank('recency', recency), rank('scorecard', takeValues(all.points, split.test))];

  const best = [...candidates].sort((a, b) => b.rocAuc - a.rocAuc || a.logLoss - b.logLoss)[0]!;
  const bestKind = best.name as ModelKind;
  const chosen = fitted.get(bestKind)!;
  const beatsBaselines = baselines.every((b) => !(b.rocAuc >= best.rocAuc));
  // Platt scaling on the test cut-off: monotone, so the ranking (and ROC-AUC) is unchanged.
  const calibrator: Calibrator = fitPlatt(chosen.p, yTest);
  const pCal = calibrateAll(calibrator, chosen.p);
  const calibrated = binaryMetrics(yTest, pCal);

  // What drives the models.
  const importance: Record<string, { measure: string; items: { feature: string; value: number }[] }> = {};
  for (const [kind, f] of fitted) {
    const m = f.model;
    if (m.type === 'logistic') importance.logistic = { measure: 'coefficient per standard deviation (log-odds)', items: top(m.coefStd) };
    else if (m.type === 'tree') importance.tree = { measure: 'share of gini gain', items: top(gainImportance([m.nodes], FEATURE_KEYS.length)) };
    else importance[kind] = { measure: 'share of split gain', items: top(m.importance) };
  }
  const sampleN = Math.min(2000, test.raw.rows);
  const idx = Uint32Array.from({ length: sampleN }, (_, i) => Math.floor((i * test.raw.rows) / sampleN));
  const ex = explain(chosen.model, { raw: takeRows(test.raw, idx), imputed: takeRows(test.imputed, idx) });
  importance.explanations = { measure: `mean |contribution| of the ${bestKind} model (${ex.space})`, items: top(meanAbs(ex, FEATURE_KEYS.length)) };
  req.onProgress?.(++done, total, 'explanations');

  const treeModel = fitted.get('tree')?.model;
  const metrics = {
    horizonDays: horizon,
    basis: ctx.churn.basis,
    selection: 'highest ROC-AUC on the test cut-off (ties: lower log loss); it must beat the recency-only baseline and the scorecard',
    beatsBaselines,
    testCutoff: split.testCutoffs[0],
    rows: { train: split.train.length, test: split.test.length, trainChurners: pTrain, testChurners: pTest },
    candidates: candidates.map((c) => ({ ...c, seconds: fitted.get(c.name as ModelKind)!.seconds })),
    baselines,
    selected: { ...best, calibrated },
    lift: liftTable(yTest, pCal),
    calibration: calibrationTable(yTest, pCal),
    calibrationBefore: calibrationTable(yTest, chosen.p),
    importance,
    rules: treeModel ? { en: rulesFor(treeModel, 'en'), 'zh-CN': rulesFor(treeModel, 'zh-CN') } : null,
    groundTruth: hasTruth ? 'truthRocAuc: demo_truth.dropped_out_at at or before cut-off + horizon' : null,
  };
  const stored: StoredModel = { format: 'liuke-churn-model', version: 1, algorithm: bestKind, model: chosen.model, calibrator, medians };
  const activate = (req.activate ?? true) && beatsBaselines;
  const saved = await db.transaction().execute(async (trx) => {
    const r = await insertModel(trx, {
      workspaceId: req.workspaceId,
      algorithm: bestKind,
      features: [...FEATURE_KEYS],
      params: { horizonDays: horizon, basis: ctx.churn.basis, cutoffs: dates.map((d) => d.toISOString()), seed, algorithms: kinds, calibration: 'platt' },
      model: stored,
      metrics,
      windowFrom: sets[0]!.cutoff,
      windowTo: sets.at(-1)!.cutoff,
      rows: all.y.length,
      trainedBy: req.actor,
      trainedAt: req.now,
    });
    await recordAudit(trx, { workspaceId: req.workspaceId, actor: req.actor, action: 'train', entity: 'model', entityId: String(r.id), after: { version: r.version, algorithm: bestKind, rocAuc: best.rocAuc, beatsBaselines } });
    if (activate) {
      const before = await setActive(trx, req.workspaceId, r.id);
      await recordAudit(trx, { workspaceId: req.workspaceId, actor: req.actor, action: 'activate', entity: 'model', entityId: String(r.id), before: { active: before }, after: { active: r.id } });
    }
    return r;
  });
  req.onProgress?.(++done, total, 'saved');
  return {
    modelId: saved.id,
    version: saved.version,
    algorithm: bestKind,
    active: activate,
    beatsBaselines,
    rows: { train: split.train.length, test: split.test.length },
    cutoffs: { train: split.trainCutoffs.map(String), test: String(split.testCutoffs[0]) },
    candidates,
    baselines,
    selected: { ...best, calibrated },
    note: beatsBaselines
      ? activate
        ? 'the new version is active'
        : 'saved, not activated'
      : 'saved but not activated: it does not beat the recency-only baseline and the scorecard on the test cut-off',
  };
}
