// The demo business: validated entry points for the CLI and the first start.
import type { Store } from '../../db/store.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { badRequest } from '../../server/errors.ts';
import { INDUSTRIES, type IndustryKey, isIndustry } from './catalogue.ts';
import type { DemoParams } from './generator.ts';
import { type LoadOptions, type LoadResult, loadDemo, restoreDeferredIndexes } from './loader.ts';

export const MAX_DEMO_CUSTOMERS = 10_000_000;

export interface DemoRequest extends LoadOptions {
  customers: number;
  seed: number;
  industry: string;
  now: Date;
  workspaceId?: number;
}

export function demoParams(r: DemoRequest): DemoParams {
  if (!Number.isInteger(r.customers) || r.customers < 1 || r.customers > MAX_DEMO_CUSTOMERS) {
    throw badRequest(`customers must be a whole number from 1 to ${MAX_DEMO_CUSTOMERS.toLocaleString('en')}`, 'customers');
  }
  if (!Number.isInteger(r.seed) || Math.abs(r.seed) > 2 ** 31 - 1) throw badRequest('seed must be a whole number (32-bit)', 'seed');
  if (!isIndustry(r.industry)) throw badRequest(`industry must be one of ${INDUSTRIES.join(', ')}`, 'industry');
  if (Number.isNaN(r.now.getTime())) throw badRequest('now is not a valid date', 'now');
  return { customers: r.customers, seed: r.seed, industry: r.industry as IndustryKey, now: r.now, workspaceId: r.workspaceId ?? DEFAULT_WORKSPACE_ID };
}

/** Generates and loads a demo business (see docs/demo.md). */
export async function createDemoBusiness(store: Store, r: DemoRequest): Promise<LoadResult> {
  return loadDemo(store, demoParams(r), r);
}

export async function hasCustomers(store: Store, workspaceId = DEFAULT_WORKSPACE_ID): Promise<boolean> {
  const row = await store.db.selectFrom('customers').select('id').where('workspace_id', '=', workspaceId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * First start: an empty workspace gets a demo business (retail, seed 1,
 * ending now) so a newcomer sees a populated dashboard at once. Returns null
 * when nothing was loaded.
 */
export async function loadDemoOnFirstStart(
  store: Store,
  opts: { customers: number; now: Date; log: (msg: string) => void; onProgress?: LoadOptions['onProgress'] },
): Promise<LoadResult | null> {
  // a demo load stopped while building its indexes after the commit: finish them now
  const restored = await restoreDeferredIndexes(store, DEFAULT_WORKSPACE_ID);
  if (restored) opts.log(`built ${restored} index(es) that an interrupted demo load had left unbuilt`);
  if (opts.customers <= 0 || (await hasCustomers(store))) return null;
  opts.log(
    `empty store: loading a demo retail business with ${opts.customers.toLocaleString('en')} customers ` +
      '(set LIUKE_DEMO_CUSTOMERS=0 to start empty; `liuke demo --reset` replaces it)…',
  );
  const r = await createDemoBusiness(store, {
    customers: opts.customers,
    seed: 1,
    industry: 'retail',
    now: opts.now,
    actor: 'system:first-start',
    onProgress: opts.onProgress,
  });
  opts.log(`demo business loaded: ${summary(r)} in ${r.seconds.toFixed(1)} s`);
  return r;
}

export function summary(r: LoadResult): string {
  return Object.entries(r.rows)
    .filter(([t]) => t !== 'demo_truth')
    .map(([t, n]) => `${n.toLocaleString('en')} ${t.replace('_', ' ')}`)
    .join(', ');
}
