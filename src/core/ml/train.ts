// From a labelled table to a report: prepare the columns, cross-validate the
// chosen model kinds, pick one, fit it on every row and describe it.
import { type Label, LabelError, readLabel, type Table } from './dataset.ts';
import { takeRows } from './matrix.ts';
import { type CalibrationRow, calibrationTable, type DecileRow, liftTable } from './metrics.ts';
import { applyPrep, fitPrep, type Prep } from './prep.ts';
import { type Lang, type Rule, treeRules } from './rules.ts';
import { type CvResult, crossValidate, explain, fitModel, type Inputs, type Model, type ModelKind, selectBest, type TrainOptions } from './select.ts';
import { gainImportance } from './tree.ts';
import { meanAbs } from './treeshap.ts';

export class TrainInputError extends Error {}

export interface TrainRequest {
  table: Table;
  label: string;
  positive?: string;
  folds?: number;
  models?: ModelKind[];
  seed?: number;
  lang?: Lang;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface FeatureWeight {
  feature: string;
  value: number;
}

export interface TrainReport {
  rows: number;
  label: { column: string; positive: string; negative: string; positives: number; note: string; droppedBlankRows: number };
  decisions: string[];
  features: number;
  folds: number;
  seed: number;
  cv: Omit<CvResult, 'oof'>[];
  selected: ModelKind;
  selectionRule: string;
  /** per model kind: what drives it */
  topFeatures: Partial<Record<ModelKind | 'shap', { measure: string; items: FeatureWeight[] }>>;
  rules?: Rule[];
  lift: DecileRow[];
  calibration: CalibrationRow[];
  /** the selected model, fitted on every row, with its preparation: plain JSON */
  artifact: { format: 'liuke-model'; version: 1; prep: Prep; label: Label['positive']; model: Model };
}

const MIN_ROWS = 10;

export function train(req: TrainRequest): TrainReport {
  const { table } = req;
  const seed = req.seed ?? 1;
  const kinds = req.models ?? ['logistic', 'tree', 'gbdt'];
  if (table.rows.length < MIN_ROWS) throw new TrainInputError(`the file has ${table.rows.length} data rows; training needs at least ${MIN_ROWS}`);
  const labelIndex = table.columns.includes(req.label) ? table.columns.indexOf(req.label) : table.columns.findIndex((c) => c.toLowerCase() === req.label.toLowerCase());
  if (labelIndex < 0) throw new TrainInputError(`there is no column "${req.label}"; the columns are: ${table.columns.join(', ')}`);
  const labelName = table.columns[labelIndex]!;
  let label: Label;
  try {
    label = readLabel(
      table.rows.map((r) => r[labelIndex] ?? ''),
      req.positive,
    );
  } catch (e) {
    if (e instanceof LabelError) throw new TrainInputError(`label "${labelName}": ${e.message}`);
    throw e;
  }
  const dropped = new Set(label.droppedRows);
  const rows = dropped.size ? table.rows.filter((_, i) => !dropped.has(i)) : table.rows;
  if (rows.length < MIN_ROWS) throw new TrainInputError(`only ${rows.length} rows have a label; training needs at least ${MIN_ROWS}`);
  const y = label.y;
  let positives = 0;
  for (const v of y) positives += v;
  const minority = Math.min(positives, y.length - positives);
  const k = Math.max(2, Math.min(req.folds ?? 5, minority));
  const decisions: string[] = [];
  if (dropped.size) decisions.push(`left out ${dropped.size} row${dropped.size > 1 ? 's' : ''} with a blank label`);
  if (k !== (req.folds ?? 5)) decisions.push(`used ${k} folds: the rarer class has only ${minority} rows`);
  const data: Table = { columns: table.columns, rows };
  const prep = fitPrep(data, { exclude: [labelName] });
  decisions.push(...prep.decisions);
  if (prep.features.length === 0) throw new TrainInputError('no usable feature columns are left after dropping id-like and constant columns');
  const x: Inputs = { imputed: applyPrep(prep, data, { impute: true }), raw: applyPrep(prep, data) };

  const total = kinds.length * k + 1;
  let done = 0;
  const opts: TrainOptions = { seed };
  const cv = crossValidate(kinds, x, y, k, opts, (kind, fold) => req.onProgress?.(++done, total, `${kind} fold ${fold}/${k}`));
  const best = selectBest(cv);
  const model = fitModel(best.kind, x, y, opts);
  req.onProgress?.(++done, total, `${best.kind} on all rows`);

  const names = prep.features.map((f) => f.name);
  const top = (values: ArrayLike<number>, n = 10): FeatureWeight[] =>
    Array.from(values, (value, j) => ({ feature: names[j]!, value }))
      .filter((f) => f.value !== 0)
      .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
      .slice(0, n);
  const topFeatures: TrainReport['topFeatures'] = {};
  const fitted = new Map<ModelKind, Model>([[best.kind, model]]);
  for (const kind of kinds) {
    const m = fitted.get(kind) ?? fitModel(kind, x, y, opts);
    fitted.set(kind, m);
    if (m.type === 'logistic') topFeatures.logistic = { measure: 'coefficient on the standardised scale (log-odds per standard deviation)', items: top(m.coefStd) };
    else if (m.type === 'tree') topFeatures.tree = { measure: 'share of gini gain', items: top(gainImportance([m.nodes], names.length)) };
    else topFeatures.gbdt = { measure: 'share of split gain', items: top(m.importance) };
  }
  // mean |SHAP| of the selected model on up to 2,000 rows
  const sampleN = Math.min(2000, y.length);
  const step = y.length / sampleN;
  const idx = Uint32Array.from({ length: sampleN }, (_, i) => Math.floor(i * step));
  const e = explain(model, { imputed: takeRows(x.imputed, idx), raw: takeRows(x.raw, idx) });
  topFeatures.shap = { measure: `mean |contribution| of the ${best.kind} model (${e.space})`, items: top(meanAbs(e, names.length)) };

  const tree = fitted.get('tree');
  const rules = tree?.type === 'tree' ? treeRules(tree.nodes, prep.features, req.lang ?? 'en', req.lang === 'zh-CN' ? `${labelName}=${label.positive} ` : `${labelName} = ${label.positive}`) : undefined;
  return {
    rows: y.length,
    label: { column: labelName, positive: label.positive, negative: label.negative, positives, note: label.note, droppedBlankRows: dropped.size },
    decisions,
    features: names.length,
    folds: k,
    seed,
    cv: cv.map(({ oof: _oof, ...r }) => r),
    selected: best.kind,
    selectionRule: 'highest mean ROC-AUC across folds; within 0.001, the lowest log loss',
    topFeatures,
    rules,
    lift: liftTable(y, best.oof),
    calibration: calibrationTable(y, best.oof),
    artifact: { format: 'liuke-model', version: 1, prep, label: label.positive, model },
  };
}
