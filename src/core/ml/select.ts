// Training several model kinds under one interface, comparing them by
// stratified K-fold CV, and picking one: highest ROC-AUC, ties (within 0.001)
// broken by the lower log loss. Every model is plain JSON.
import { type Fold, stratifiedKFold } from './cv.ts';
import { explainGbdt, type Explanation, explainTree } from './treeshap.ts';
import { fitGbdt, type GbdtModel, type GbdtOptions, gbdtMargin, predictGbdt } from './gbdt.ts';
import { explainLogistic, fitLogistic, type LogisticModel, type LogisticOptions, predictLogistic } from './logistic.ts';
import { type Matrix, takeRows, takeValues } from './matrix.ts';
import { type BinaryMetrics, binaryMetrics } from './metrics.ts';
import { fitTree, predictTree, type TreeModel, type TreeOptions } from './tree.ts';

export type ModelKind = 'logistic' | 'tree' | 'gbdt';
export const MODEL_KINDS: ModelKind[] = ['logistic', 'tree', 'gbdt'];
export type Model = LogisticModel | TreeModel | GbdtModel;

export interface TrainOptions {
  seed?: number;
  logistic?: LogisticOptions;
  tree?: TreeOptions;
  gbdt?: GbdtOptions;
}

/**
 * Inputs for the models: logistic regression wants no blanks (median-imputed),
 * the trees handle blanks themselves.
 */
export interface Inputs {
  imputed: Matrix;
  raw: Matrix;
}

export function fitModel(kind: ModelKind, x: Inputs, y: ArrayLike<number>, opts: TrainOptions = {}): Model {
  const seed = opts.seed ?? 1;
  if (kind === 'logistic') return fitLogistic(x.imputed, y, opts.logistic);
  if (kind === 'tree') return fitTree(x.raw, y, { seed, ...opts.tree });
  return fitGbdt(x.raw, y, { seed, ...opts.gbdt });
}

export function predict(m: Model, x: Inputs): Float64Array {
  if (m.type === 'logistic') return predictLogistic(m, x.imputed);
  if (m.type === 'tree') return predictTree(m, x.raw);
  return predictGbdt(m, x.raw);
}

/**
 * Per-row contributions: log-odds for logistic regression and boosting,
 * probability for a single tree (see `space`).
 */
export function explain(m: Model, x: Inputs): Explanation & { space: 'log-odds' | 'probability' } {
  if (m.type === 'logistic') return { ...explainLogistic(m, x.imputed), space: 'log-odds' };
  if (m.type === 'tree') return { ...explainTree(m.nodes, x.raw), space: 'probability' };
  return { ...explainGbdt(m, x.raw), space: 'log-odds' };
}

export function margin(m: GbdtModel, x: Inputs): Float64Array {
  return gbdtMargin(m, x.raw);
}

export function modelToJson(m: Model): string {
  return JSON.stringify({ format: 'liuke-model', version: 1, model: m });
}

export function modelFromJson(text: string): Model {
  const o = JSON.parse(text) as { format?: string; version?: number; model?: Model };
  if (o.format !== 'liuke-model' || o.version !== 1 || !o.model || !['logistic', 'tree', 'gbdt'].includes(o.model.type))
    throw new Error('not a Liuke model (format liuke-model, version 1)');
  return o.model;
}

export interface MetricSummary {
  mean: number;
  std: number;
}

export interface CvResult {
  kind: ModelKind;
  folds: BinaryMetrics[];
  rocAuc: MetricSummary;
  prAuc: MetricSummary;
  logLoss: MetricSummary;
  brier: MetricSummary;
  /** out-of-fold predictions for every row */
  oof: Float64Array;
  seconds: number;
}

function summary(v: number[]): MetricSummary {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std };
}

function subset(x: Inputs, idx: Uint32Array): Inputs {
  return { imputed: takeRows(x.imputed, idx), raw: takeRows(x.raw, idx) };
}

export function crossValidate(
  kinds: ModelKind[],
  x: Inputs,
  y: ArrayLike<number>,
  k = 5,
  opts: TrainOptions = {},
  onFold?: (kind: ModelKind, fold: number) => void,
): CvResult[] {
  const folds: Fold[] = stratifiedKFold(y, k, opts.seed ?? 1);
  return kinds.map((kind) => {
    const start = performance.now();
    const oof = new Float64Array(y.length);
    const per: BinaryMetrics[] = folds.map((f, i) => {
      const m = fitModel(kind, subset(x, f.train), takeValues(y, f.train), opts);
      const p = predict(m, subset(x, f.test));
      for (let r = 0; r < f.test.length; r++) oof[f.test[r]!] = p[r]!;
      onFold?.(kind, i + 1);
      return binaryMetrics(takeValues(y, f.test), p);
    });
    return {
      kind,
      folds: per,
      rocAuc: summary(per.map((m) => m.rocAuc)),
      prAuc: summary(per.map((m) => m.prAuc)),
      logLoss: summary(per.map((m) => m.logLoss)),
      brier: summary(per.map((m) => m.brier)),
      oof,
      seconds: (performance.now() - start) / 1000,
    };
  });
}

/** The best result: highest mean ROC-AUC; within 0.001 of it, the lowest log loss. */
export function selectBest(results: CvResult[], tolerance = 0.001): CvResult {
  const best = Math.max(...results.map((r) => (Number.isNaN(r.rocAuc.mean) ? -1 : r.rocAuc.mean)));
  const near = results.filter((r) => r.rocAuc.mean >= best - tolerance);
  return near.sort((a, b) => a.logLoss.mean - b.logLoss.mean)[0] ?? results[0]!;
}

export interface Driver {
  feature: string;
  /** the row's value for the feature (NaN when blank) */
  value: number;
  /** contribution in the explanation's space; positive raises the risk */
  contribution: number;
}

/** A row's strongest drivers, largest |contribution| first (for "why is this customer at risk"). */
export function topDrivers(e: Explanation, x: Matrix, row: number, k = 5): Driver[] {
  const d = x.cols;
  const out: Driver[] = [];
  for (let j = 0; j < d; j++) {
    const c = e.contributions[row * d + j]!;
    if (c !== 0) out.push({ feature: x.names[j]!, value: x.data[row * d + j]!, contribution: c });
  }
  return out.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, k);
}
