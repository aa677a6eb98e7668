import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stratifiedKFold, timeSplit } from './cv.ts';
import { fromRows, rng } from './matrix.ts';
import { treeRules } from './rules.ts';
import { explain, fitModel, modelFromJson, modelToJson, predict, selectBest, topDrivers } from './select.ts';
import { TrainInputError, train } from './train.ts';
import type { TreeNodes } from './tree.ts';

function telco(n: number, seed = 1) {
  const r = rng(seed);
  const columns = ['customerID', 'Contract', 'tenure', 'TotalCharges', 'Complaints', 'Churn'];
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const tenure = Math.floor(r() * 72);
    const monthly = r() < 0.6;
    const complaints = Math.floor(r() * 4);
    const eta = -1 + (monthly ? 1.5 : -1) - tenure / 25 + 0.6 * complaints;
    rows.push([`${i}-X`, monthly ? 'Month-to-month' : 'Two year', String(tenure), tenure === 0 ? ' ' : String(tenure * 50), String(complaints), r() < 1 / (1 + Math.exp(-eta)) ? 'Yes' : 'No']);
  }
  return { columns, rows };
}

describe('cross-validation and selection', () => {
  it('stratified folds partition the rows with the class share in each, the same for the same seed', () => {
    const y = Array.from({ length: 103 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const folds = stratifiedKFold(y, 5, 3);
    const seen = new Set<number>();
    for (const f of folds) {
      const pos = Array.from(f.test).filter((i) => y[i] === 1).length;
      assert.ok(pos === 4 || pos === 5);
      for (const i of f.test) seen.add(i);
      assert.equal(f.train.length + f.test.length, 103);
    }
    assert.equal(seen.size, 103);
    assert.deepEqual(stratifiedKFold(y, 5, 3), folds);
  });

  it('a time split trains on older cut-offs and tests on the newest', () => {
    const s = timeSplit(['2024-01-01', '2024-02-01', '2024-03-01', '2024-02-01', '2024-03-01']);
    assert.deepEqual(Array.from(s.test), [2, 4]);
    assert.deepEqual(s.testCutoffs, ['2024-03-01']);
  });

  it('selects by ROC-AUC, breaking near-ties by log loss', () => {
    const r = (kind: 'logistic' | 'tree' | 'gbdt', auc: number, ll: number) =>
      ({ kind, rocAuc: { mean: auc, std: 0 }, logLoss: { mean: ll, std: 0 } }) as Parameters<typeof selectBest>[0][number];
    assert.equal(selectBest([r('logistic', 0.8, 0.5), r('gbdt', 0.85, 0.6)]).kind, 'gbdt');
    assert.equal(selectBest([r('logistic', 0.8495, 0.4), r('gbdt', 0.85, 0.6)]).kind, 'logistic');
  });
});

describe('train', () => {
  it('trains on a telco-like table with blanks, an id column and Yes/No labels', () => {
    const report = train({ table: telco(600), label: 'Churn', folds: 3 });
    assert.equal(report.label.positive, 'Yes');
    assert.ok(report.decisions.some((d) => d.includes('dropped "customerID"')));
    assert.ok(report.decisions.some((d) => d.includes('"TotalCharges"')));
    assert.equal(report.cv.length, 3);
    for (const c of report.cv) assert.ok(c.rocAuc.mean > 0.7, `${c.kind} ${c.rocAuc.mean}`);
    assert.ok(report.rules && report.rules.length > 1 && report.rules[0]!.text.startsWith('If '));
    assert.ok(report.topFeatures.shap!.items.length > 0);
    const m = modelFromJson(modelToJson(report.artifact.model));
    assert.equal(m.type, report.selected);
    assert.equal(report.lift.length, 10);
    // the same seed gives the same folds and figures
    const again = train({ table: telco(600), label: 'Churn', folds: 3, models: ['logistic'] });
    assert.deepEqual(again.cv[0]!.rocAuc, report.cv[0]!.rocAuc);
    assert.equal(predict(m, { imputed: { rows: 0, cols: 0, data: new Float64Array(0), names: [] }, raw: { rows: 0, cols: 0, data: new Float64Array(0), names: [] } }).length, 0);
  });

  it('names the strongest drivers of a row for every model kind', () => {
    const x = fromRows(
      Array.from({ length: 300 }, (_, i) => [i % 10, (i * 7) % 13, 1]),
      ['complaints', 'noise', 'constant'],
    );
    const y = Array.from({ length: 300 }, (_, i) => (i % 10 >= 7 ? 1 : 0));
    for (const kind of ['logistic', 'tree', 'gbdt'] as const) {
      const m = fitModel(kind, { imputed: x, raw: x }, y, { tree: { maxDepth: 3 } });
      const e = explain(m, { imputed: x, raw: x });
      const top = topDrivers(e, x, 9, 2);
      assert.equal(top[0]!.feature, 'complaints', kind);
      assert.ok(top[0]!.contribution > 0, kind);
      assert.equal(top[0]!.value, 9);
    }
  });

  it('explains what is wrong with the input', () => {
    const t = telco(50);
    assert.throws(() => train({ table: t, label: 'churn_flag' }), /no column "churn_flag"; the columns are: customerID, Contract/);
    assert.throws(() => train({ table: { ...t, rows: t.rows.slice(0, 9) }, label: 'Churn' }), /at least 10/);
    const one = { ...t, rows: t.rows.map((r) => [...r.slice(0, 5), 'No']) };
    assert.throws(() => train({ table: one, label: 'Churn' }), /only one value/);
    const three = { ...t, rows: t.rows.map((r, i) => [...r.slice(0, 5), ['a', 'b', 'c'][i % 3]!]) };
    assert.throws(() => train({ table: three, label: 'Churn' }), TrainInputError);
  });
});

describe('tree rules', () => {
  it('reads a tree as sentences in English and Chinese', () => {
    const t: TreeNodes = {
      feature: [0, -1, 1, -1, -1],
      threshold: [62, 0, 1, 0, 0],
      binThreshold: [0, 0, 0, 0, 0],
      missingLeft: [false, false, false, false, false],
      left: [1, -1, 3, -1, -1],
      right: [2, -1, 4, -1, -1],
      value: [0.3, 0.1, 0.5, 0.3, 0.81],
      count: [1000, 500, 500, 160, 340],
      positives: [0, 0, 0, 0, 0],
      gain: [1, 0, 1, 0, 0],
    };
    const features = [
      { name: 'days since last purchase', source: 'days since last purchase', kind: 'numeric' as const, integer: true },
      { name: 'complaints', source: 'complaints', kind: 'numeric' as const, integer: true },
    ];
    const en = treeRules(t, features);
    assert.equal(en[0]!.text, 'If days since last purchase ≥ 63 and complaints ≥ 2 then churn probability 0.81 (n = 340)');
    assert.equal(en[2]!.text, 'If days since last purchase ≤ 62 then churn probability 0.10 (n = 500)');
    assert.equal(treeRules(t, features, 'zh-CN')[0]!.text, '如果 days since last purchase ≥ 63 且 complaints ≥ 2，则流失概率为 0.81（n = 340）');
  });
});
