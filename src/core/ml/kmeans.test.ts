import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignKMeans, clusterProfiles, fitKMeans } from './kmeans.ts';
import { matrix, normal, rng } from './matrix.ts';

function blobs(n: number, centres: number[][], seed: number) {
  const rand = rng(seed);
  const d = centres[0]!.length;
  const x = matrix(n, d, ['spend', 'recency']);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % centres.length;
    truth[i] = c;
    for (let j = 0; j < d; j++) x.data[i * d + j] = centres[c]![j]! + normal(rand) * 0.5;
  }
  return { x, truth };
}

describe('k-means', () => {
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  it('finds three separated blobs, chooses k = 3 by silhouette, the same with the same seed', () => {
    const { x, truth } = blobs(900, centres, 3);
    const m = fitKMeans(x, { seed: 7, kRange: [2, 6] });
    assert.equal(m.k, 3);
    // every true blob maps to one cluster
    for (let c = 0; c < 3; c++) {
      const labels = new Set<number>();
      for (let i = 0; i < 900; i++) if (truth[i] === c) labels.add(m.assignments[i]!);
      assert.equal(labels.size, 1);
    }
    const again = fitKMeans(x, { seed: 7, kRange: [2, 6] });
    assert.deepEqual(again.centroids, m.centroids);
    const back = JSON.parse(JSON.stringify({ ...m, assignments: undefined }));
    assert.deepEqual(Array.from(assignKMeans(back, x)), Array.from(m.assignments));
  });

  it('describes each cluster against the overall means', () => {
    const { x } = blobs(300, centres, 4);
    const m = fitKMeans(x, { k: 3, seed: 1 });
    const p = clusterProfiles(m);
    const high = p.find((c) => c.features.find((f) => f.feature === 'spend')!.mean > 8)!;
    assert.match(high.summary, /spend 10\.\d vs 3\.\d overall \(1\.\d sd above\)/);
    assert.match(clusterProfiles(m, 'zh-CN')[0]!.summary, /^第 1 群/);
  });
});
