import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { forEachStore } from '../../db/testing.ts';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { runPipeline } from '../pipeline/pipeline.ts';
import { churnScoringStep } from './churn.step.ts';
import { type Driver, sentence } from './explain.ts';
import { riskTiers } from './scoring.ts';
import { trainChurn } from './training.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

it('renders drivers as sentences in English and Chinese', () => {
  const d = (feature: string, value: number, context?: Record<string, number | null>): Driver => ({ feature, direction: 'up', size: 0.4, value, ...(context ? { context } : {}) });
  assert.equal(sentence(d('frequency_change', -0.45), 'en'), 'purchase frequency fell 45% against the previous quarter');
  assert.equal(sentence(d('frequency_change', -0.45), 'zh-CN'), '购买频次较上季度下降 45%');
  assert.equal(sentence(d('unresolved_complaints', 2), 'en'), '2 unresolved complaints');
  assert.equal(sentence(d('unresolved_complaints', 2), 'zh-CN'), '2 个未解决的投诉');
  assert.equal(sentence(d('recency_days', 41, { usual_gap_days: 12 }), 'en'), '41 days since the last purchase; usually every 12');
  assert.equal(sentence(d('recency_days', 41, { usual_gap_days: 12 }), 'zh-CN'), '距上次购买 41 天，平时每 12 天一次');
  assert.equal(sentence(d('gap_ratio', 3.4, { recency_days: 41, usual_gap_days: 12 }), 'zh-CN'), '距上次购买 41 天，平时每 12 天一次');
  assert.match(sentence(d('spend_365d', 1234.5), 'en'), /spend in the last 365 days: 1,235/);
});

it('puts the top N in the high tier when a capacity is set', () => {
  const p = Float64Array.from([0.9, 0.1, 0.6, 0.3, 0.8]);
  assert.deepEqual(riskTiers(p, { thresholds: { high: 0.5, medium: 0.25 }, capacity: null }), ['high', 'low', 'high', 'medium', 'high']);
  assert.deepEqual(riskTiers(p, { thresholds: { high: 0.5, medium: 0.25 }, capacity: 2 }), ['high', 'low', 'medium', 'medium', 'high']);
});

forEachStore('churn scoring', (get) => {
  it('without a model: the step says so and the tiers come from the scorecard', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 800, seed: 5, industry: 'retail', now: NOW, actor: 'test' });
    const r = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [churnScoringStep] });
    assert.equal(r.status, 'done');
    assert.match(String(r.steps[0]!.result!.message), /no active churn model/);
    const rows = await store.db.selectFrom('churn_scores').selectAll().execute();
    assert.ok(rows.length > 500);
    assert.ok(rows.every((x) => x.probability === null && x.risk_tier === x.scorecard_level && x.model_id === null));
    assert.ok(rows.some((x) => x.scorecard_level === 'high') && rows.some((x) => x.scorecard_level === 'low'));
    const hit = rows.find((x) => (x.scorecard_breakdown as unknown[]).length > 0)!;
    assert.ok((hit.scorecard_breakdown as { indicator: string; points: number }[]).every((b) => b.indicator && b.points > 0));
  });

  it('with a model: calibrated probabilities, tiers, drivers for the likeliest churners; capacity from settings', async () => {
    const store = get();
    const { db } = store;
    const t = await trainChurn(db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 4, algorithms: ['logistic', 'gbdt'] });
    assert.ok(t.active, t.note);
    await sql`update workspaces set settings = jsonb_set(settings, '{churn}', '{"capacity": 50, "explainTop": 100}') where id = 1`.execute(db);
    const r = await runPipeline(store, { workspaceId: 1, now: NOW, steps: [churnScoringStep] });
    assert.equal(r.status, 'done', r.error);
    const rows = await db.selectFrom('churn_scores').selectAll().orderBy('probability', 'desc').execute();
    assert.ok(rows.every((x) => x.probability! >= 0 && x.probability! <= 1 && Number(x.model_id) === t.modelId));
    assert.equal(rows.filter((x) => x.risk_tier === 'high').length, 50);
    assert.ok(rows.slice(0, 50).every((x) => x.risk_tier === 'high'));
    const explained = rows.filter((x) => x.drivers !== null);
    assert.equal(explained.length, 100);
    const top = rows[0]!.drivers as Driver[];
    assert.ok(top.length > 0 && top[0]!.direction === 'up' && top[0]!.size > 0);
    assert.ok(sentence(top[0]!, 'zh-CN').length > 0);
    // churners score higher than stayers (against the demo's truth)
    const truth = await db.selectFrom('demo_truth').select(['customer_id', 'dropped_out_at']).execute();
    const dropped = new Set(truth.filter((x) => x.dropped_out_at !== null).map((x) => x.customer_id));
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    assert.ok(mean(rows.filter((x) => dropped.has(x.customer_id)).map((x) => x.probability!)) > mean(rows.filter((x) => !dropped.has(x.customer_id)).map((x) => x.probability!)));
  });
});
