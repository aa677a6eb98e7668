import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachStore } from '../../db/testing.ts';
import { createDemoBusiness } from '../demo/demo.service.ts';
import { activeModel, listModels } from './registry.repository.ts';
import { cutoffDates, trainChurn } from './training.ts';

const NOW = new Date('2025-06-30T12:00:00Z');

it('puts the newest cut-off a horizon before today and steps back monthly', () => {
  const d = cutoffDates(NOW, 90, 3, 30).map((x) => x.toISOString().slice(0, 10));
  assert.deepEqual(d, ['2025-01-31', '2025-03-02', '2025-04-01']);
});

forEachStore('churn training', (get) => {
  it('trains on the store by time, beats recency and the scorecard against the demo ground truth, and saves an active version', async () => {
    const store = get();
    await createDemoBusiness(store, { customers: 1500, seed: 3, industry: 'retail', now: NOW, actor: 'test' });
    const r = await trainChurn(store.db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 6 });
    const truth = (name: string) => [...r.candidates, ...r.baselines].find((c) => c.name === name)!.truthRocAuc!;
    const report = [...r.candidates, ...r.baselines].map((c) => `${c.name}: label ${c.rocAuc.toFixed(3)} truth ${c.truthRocAuc?.toFixed(3)}`).join('; ');
    console.log(`selected ${r.algorithm}; ${report}`);
    assert.ok(r.beatsBaselines, report);
    assert.ok(r.selected.truthRocAuc! > truth('recency'), report);
    assert.ok(r.selected.truthRocAuc! > truth('scorecard'), report);
    assert.ok(r.selected.rocAuc > 0.7, report);
    assert.equal(r.cutoffs.train.length, 5);
    assert.equal(r.active, true);
    const active = await activeModel(store.db, 1);
    assert.equal(Number(active!.id), r.modelId);
    const m = active!.metrics as { lift: unknown[]; calibration: unknown[]; importance: Record<string, unknown> };
    assert.equal(m.lift.length, 10);
    assert.equal(m.calibration.length, 10);
    assert.ok(m.importance.explanations);
    // a second training is a new version; the newest that beats the baselines becomes active
    const r2 = await trainChurn(store.db, { workspaceId: 1, now: NOW, actor: 'test', cutoffs: 3, algorithms: ['logistic'] });
    assert.equal(r2.version, 2);
    const list = await listModels(store.db, 1);
    assert.equal(list.length, 2);
    assert.equal(list.filter((x) => x.active).length, 1);
  });

  it('says what is missing when the store has too little history', async () => {
    const { db } = get();
    await assert.rejects(trainChurn(db, { workspaceId: 1, now: new Date('2023-01-01T00:00:00Z'), actor: 'test', cutoffs: 3 }), /cut-offs/);
  });
});
