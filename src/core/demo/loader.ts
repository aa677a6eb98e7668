// Loads a generated demo business into the store in bounded batches, through
// the same COPY path imports use (Session.copyCsv), in one transaction: a
// failed load leaves the store as it was.
import { Worker } from 'node:worker_threads';
import { sql } from 'kysely';
import type { Store } from '../../db/store.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { conflict } from '../../server/errors.ts';
import { BATCH_TABLES, type Batch, catalogueCsv, DEMO_COLUMNS, type DemoParams, generateBatch } from './generator.ts';
import type { BatchRequest } from './generator.worker.ts';

/** Business tables a reset empties (children first). */
export const BUSINESS_TABLES = [
  'order_lines',
  'orders',
  'events',
  'tickets',
  'survey_responses',
  'referrals',
  'coupons',
  'demo_truth',
  'customers',
  'products',
] as const;

export interface LoadOptions {
  /** delete the workspace's business data first; without it a store with customers is refused */
  reset?: boolean;
  /** customers per batch (default 5,000) */
  batchSize?: number;
  /** generate in a worker thread while loading (default: from 20,000 customers on) */
  worker?: boolean;
  onProgress?: (customersDone: number, total: number) => void;
  actor?: string;
}

export interface LoadResult {
  customers: number;
  rows: Record<string, number>;
  seconds: number;
}

/** Batches in order, generated here or in a worker thread that stays up to two batches ahead. */
async function* batches(params: DemoParams, size: number, useWorker: boolean): AsyncGenerator<Batch> {
  const ranges: [number, number][] = [];
  for (let from = 0; from < params.customers; from += size) ranges.push([from, Math.min(params.customers, from + size)]);
  if (!useWorker) {
    for (const [from, to] of ranges) yield generateBatch(params, from, to);
    return;
  }
  const worker = new Worker(new URL('./generator.worker.ts', import.meta.url));
  const waiting: { resolve: (b: Batch) => void; reject: (e: unknown) => void }[] = [];
  const results: Promise<Batch>[] = [];
  worker.on('message', (b: Batch) => waiting.shift()?.resolve(b));
  worker.on('error', (e) => {
    for (const w of waiting.splice(0)) w.reject(e);
  });
  const request = (k: number) => {
    const [from, to] = ranges[k]!;
    results[k] = new Promise<Batch>((resolve, reject) => waiting.push({ resolve, reject }));
    results[k].catch(() => {}); // surfaced when awaited
    worker.postMessage({ params, from, to } satisfies BatchRequest);
  };
  try {
    for (let k = 0; k < Math.min(2, ranges.length); k++) request(k);
    for (let k = 0; k < ranges.length; k++) {
      const b = await results[k]!;
      results[k] = undefined as unknown as Promise<Batch>;
      if (k + 2 < ranges.length) request(k + 2);
      yield b;
    }
  } finally {
    await worker.terminate();
  }
}

export async function loadDemo(store: Store, params: DemoParams, opts: LoadOptions = {}): Promise<LoadResult> {
  const t0 = performance.now();
  const ws = params.workspaceId;
  const size = Math.max(1, opts.batchSize ?? 5_000);
  const useWorker = opts.worker ?? params.customers >= 20_000;
  const rows: Record<string, number> = { products: 0 };
  for (const t of BATCH_TABLES) rows[t] = 0;

  await store.session(async (s) => {
    await sql`begin`.execute(s.db);
    const existing = await s.db.selectFrom('customers').select('id').where('workspace_id', '=', ws).limit(1).executeTakeFirst();
    if (existing && !opts.reset) {
      throw conflict('the store already has customers; pass --reset to delete this workspace\'s business data and load the demo instead');
    }
    if (opts.reset) {
      for (const t of BUSINESS_TABLES) await s.db.deleteFrom(t).where('workspace_id', '=', ws).execute();
    }
    rows.products = await s.copyCsv('products', DEMO_COLUMNS.products, [catalogueCsv(params)]);
    for await (const b of batches(params, size, useWorker)) {
      for (const t of BATCH_TABLES) {
        const chunks = b.chunks[t]!;
        if (chunks.length === 0) continue;
        rows[t]! += await s.copyCsv(t, DEMO_COLUMNS[t], chunks);
        chunks.length = 0; // let the batch go as soon as it is in
      }
      opts.onProgress?.(b.to, params.customers);
    }
    await s.db.updateTable('workspaces').set({ industry: params.industry }).where('id', '=', ws).execute();
    await recordAudit(s.db, {
      workspaceId: ws,
      actor: opts.actor ?? 'system',
      action: opts.reset ? 'reset_and_load_demo' : 'load_demo',
      entity: 'workspace',
      entityId: String(ws),
      after: { industry: params.industry, seed: params.seed, customers: params.customers, now: params.now.toISOString(), rows },
    });
    await sql`commit`.execute(s.db);
  });
  return { customers: params.customers, rows, seconds: (performance.now() - t0) / 1000 };
}
