// npm run bench -- quality: the data-quality report at 100k and 1M customers
// (10 orders, 20 order lines and 30 events per customer), on a throw-away
// PostgreSQL database (and PGlite for the smaller scale). Data is generated in
// SQL (INSERT … SELECT generate_series) with a known sprinkling of defects, so
// the bench also checks that the report finds them.
//   QUALITY_BENCH_SCALES=100000,1000000  QUALITY_BENCH_STORES=postgres,pglite
import assert from 'node:assert/strict';
import { computeDataQuality } from '../src/core/quality/quality.service.ts';
import { duplicateGroups } from '../src/core/quality/quality.repository.ts';
import type { StoreKind } from '../src/db/store.ts';
import { openTestStore } from '../src/db/testing.ts';
import { loadQualityData } from './quality.data.ts';

const scales = (process.env.QUALITY_BENCH_SCALES ?? '100000,1000000').split(',').map(Number);
const stores = (process.env.QUALITY_BENCH_STORES ?? 'postgres,pglite').split(',') as StoreKind[];
/** PGlite runs in this process's WASM heap: keep it to the small scale. */
const PGLITE_MAX = 100_000;
const NOW = new Date('2025-06-01T00:00:00Z');

const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);

for (const kind of stores) {
  for (const n of scales) {
    if (kind === 'pglite' && n > PGLITE_MAX) continue;
    process.stdout.write(`\n${kind}, ${n.toLocaleString('en')} customers, ${(n * 10).toLocaleString('en')} orders, ${(n * 20).toLocaleString('en')} lines, ${(n * 30).toLocaleString('en')} events\n`);
    const store = await openTestStore(kind);
    try {
      await loadQualityData(store.db, n);
      const times: string[] = [];
      let report: Awaited<ReturnType<typeof computeDataQuality>> | undefined;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        report = await computeDataQuality(store.db, 1, NOW);
        times.push(secs(t0));
      }
      const t1 = performance.now();
      const groups = await duplicateGroups(store.db, 1, 'phone', null);
      const dupSecs = secs(t1);
      assert.ok(report);
      // The planted defects are found.
      assert.equal(report.duplicates.phone.groups, n / 200);
      if (n * 10 >= 100_000) assert.ok(report.outliers.count >= (n * 10) / 100_000);
      assert.ok(report.orderLines.orphanLines > 0 && report.orderLines.mismatchedOrders > 0);
      assert.ok(report.dates.futureOrders > 0 && report.dates.ordersBefore2000 > 0);
      process.stdout.write(`  report               ${times.join(' s, ')} s (3 runs)\n`);
      process.stdout.write(`  duplicate groups     ${dupSecs} s for all ${groups.length.toLocaleString('en')} phone groups\n`);
      process.stdout.write(
        `  found: ${report.findings.map((f) => `${f.code} ${f.count}`).join(', ')}; completeness ${report.completeness.overall}%, outlier threshold ${report.outliers.threshold}\n`,
      );
    } finally {
      await store.close();
    }
  }
}
