// Behavioural clustering (docs/clusters.md): k-means (src/core/ml) over standardised,
// log-transformed figures from customer_metrics for every customer who bought, k chosen
// by the silhouette on a seeded sample, every customer then assigned to the nearest
// centre, and each cluster described in English and Chinese.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { assignKMeans, fitKMeans, type KMeansModel } from '../ml/kmeans.ts';
import { matrix, rng, takeRows } from '../ml/matrix.ts';
import type { Step } from '../pipeline/pipeline.ts';
import { requireFigures } from '../analytics/metrics.repository.ts';
import { csvText, DAY_MS } from './clv.repository.ts';
import { loadPredictionSettings, type PredictionSettings } from './settings.ts';

interface Feature {
  key: string;
  /** transformed for k-means: log1p for skewed counts and amounts */
  log: boolean;
  en: { high: string; low: string };
  zh: { high: string; low: string };
  /** the raw figure in words, cluster vs overall */
  say(c: number, all: number, lang: 'en' | 'zh-CN'): string;
}

const r1 = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (c: number, all: number) => (all > 0 ? c / all : 0);
const pct = (v: number) => `${Math.round(v * 100)}%`;

export const FEATURES: Feature[] = [
  {
    key: 'recency_days', log: true,
    en: { high: 'gone quiet', low: 'bought recently' }, zh: { high: '久未购买', low: '近期有购买' },
    say: (c, a, l) => (l === 'en' ? `${r1(c)} days since purchase vs ${r1(a)} overall` : `距上次购买 ${r1(c)} 天（整体 ${r1(a)} 天）`),
  },
  {
    key: 'orders', log: true,
    en: { high: 'frequent buyers', low: 'few orders' }, zh: { high: '高频购买', low: '购买次数少' },
    say: (c, a, l) => (l === 'en' ? `${r1(c)} orders vs ${r1(a)} overall` : `${r1(c)} 单（整体 ${r1(a)} 单）`),
  },
  {
    key: 'spend', log: true,
    en: { high: 'high spenders', low: 'low spenders' }, zh: { high: '高消费', low: '低消费' },
    say: (c, a, l) => (l === 'en' ? `spend ${ratio(c, a).toFixed(1)}× average` : `消费为平均的 ${ratio(c, a).toFixed(1)} 倍`),
  },
  {
    key: 'aov', log: true,
    en: { high: 'big baskets', low: 'small baskets' }, zh: { high: '客单价高', low: '客单价低' },
    say: (c, a, l) => (l === 'en' ? `order value ${ratio(c, a).toFixed(1)}× average` : `客单价为平均的 ${ratio(c, a).toFixed(1)} 倍`),
  },
  {
    key: 'coupon_share', log: false,
    en: { high: 'coupon-driven', low: 'rarely use coupons' }, zh: { high: '依赖优惠券', low: '很少用券' },
    say: (c, a, l) => (l === 'en' ? `coupons on ${pct(c)} of orders vs ${pct(a)} overall` : `${pct(c)} 的订单用券（整体 ${pct(a)}）`),
  },
  {
    key: 'events_30d', log: true,
    en: { high: 'active online', low: 'inactive online' }, zh: { high: '线上活跃', low: '线上不活跃' },
    say: (c, a, l) => (l === 'en' ? `${r1(c)} events in 30 days vs ${r1(a)} overall` : `近 30 天 ${r1(c)} 次行为（整体 ${r1(a)}）`),
  },
  {
    key: 'complaints', log: true,
    en: { high: 'complaining', low: 'no complaints' }, zh: { high: '有投诉', low: '无投诉' },
    say: (c, a, l) => (l === 'en' ? `${c.toFixed(2)} complaints vs ${a.toFixed(2)} overall` : `投诉 ${c.toFixed(2)} 次（整体 ${a.toFixed(2)}）`),
  },
  {
    key: 'refund_share', log: false,
    en: { high: 'often refund', low: 'rarely refund' }, zh: { high: '退款较多', low: '很少退款' },
    say: (c, a, l) => (l === 'en' ? `${pct(c)} of orders refunded vs ${pct(a)} overall` : `${pct(c)} 的订单退款（整体 ${pct(a)}）`),
  },
  {
    key: 'tenure_days', log: true,
    en: { high: 'long-standing', low: 'new' }, zh: { high: '老客户', low: '新客户' },
    say: (c, a, l) => (l === 'en' ? `customer for ${r1(c)} days vs ${r1(a)} overall` : `成为客户 ${r1(c)} 天（整体 ${r1(a)} 天）`),
  },
];

export interface ClusterProfileOut {
  cluster: number;
  size: number;
  share: number;
  label: { en: string; zh: string };
  description: { en: string; zh: string };
  /** raw (untransformed) means: the cluster's, everyone's, and the centre in standard deviations */
  features: { feature: string; mean: number; overall: number; z: number }[];
}

interface Loaded {
  ids: string[];
  raw: Float64Array; // rows × FEATURES, untransformed
}

async function loadFeatures(db: Kysely<Database>, workspaceId: number, now: Date): Promise<Loaded> {
  const r = await sql<{ customer_id: string; v: number[] }>`
    select customer_id, array[
      coalesce(floor(extract(epoch from (${now}::timestamptz - last_order_at)) / 86400), 0), orders_total, spend_total, spend_total / nullif(orders_total, 0),
      coupon_orders_window::float8 / nullif(orders_window, 0), events_30d, complaints_total,
      refunded_orders::float8 / nullif(orders_all_statuses, 0),
      greatest(0, extract(epoch from (${now}::timestamptz - first_order_at)) / 86400)
    ]::float8[] as v
    from customer_metrics where workspace_id = ${workspaceId} and orders_total > 0
    order by customer_id collate "C"`.execute(db);
  const d = FEATURES.length;
  const raw = new Float64Array(r.rows.length * d);
  const ids: string[] = new Array(r.rows.length);
  r.rows.forEach((row, i) => {
    ids[i] = row.customer_id;
    for (let j = 0; j < d; j++) {
      const v = row.v[j];
      raw[i * d + j] = v === null || v === undefined ? 0 : Number(v);
    }
  });
  return { ids, raw };
}

function describe(m: KMeansModel, c: number, means: number[], overall: number[], size: number, total: number): ClusterProfileOut {
  const d = FEATURES.length;
  const feats = FEATURES.map((f, j) => ({ f, j, z: m.centroids[c * d + j]! })).sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
  const top = feats.filter((x) => Math.abs(x.z) >= 0.25).slice(0, 3);
  const words = (lang: 'en' | 'zh') => top.slice(0, 2).map((x) => (x.z > 0 ? x.f[lang].high : x.f[lang].low));
  const en = words('en');
  const zh = words('zh');
  const labelEn = en.length ? `${en[0]![0]!.toUpperCase()}${en[0]!.slice(1)}${en[1] ? `, ${en[1]}` : ''}` : 'Typical customers';
  const labelZh = zh.length ? zh.join('、') : '普通客户';
  const detail = (lang: 'en' | 'zh-CN') => top.map((x) => x.f.say(means[x.j]!, overall[x.j]!, lang));
  return {
    cluster: c,
    size,
    share: total ? size / total : 0,
    label: { en: labelEn, zh: labelZh },
    description: { en: `${labelEn}: ${detail('en').join(', ') || 'close to average on every figure'}`, zh: `${labelZh}：${detail('zh-CN').join('，') || '各项指标接近平均'}` },
    features: FEATURES.map((f, j) => ({ feature: f.key, mean: means[j]!, overall: overall[j]!, z: m.centroids[c * d + j]! })),
  };
}

export interface ClusterResult {
  skipped?: string;
  customers: number;
  k?: number;
  silhouette?: number | null;
  profiles?: { cluster: number; size: number; label: string }[];
}

/** Clusters every customer who bought, as of `now`; rewrites customer_clusters and adds a cluster_profiles row. */
export async function computeClusters(store: Store, workspaceId: number, now: Date, settings?: PredictionSettings): Promise<ClusterResult> {
  const o = (settings ?? (await loadPredictionSettings(store.db, workspaceId))).clusters;
  const { ids, raw } = await loadFeatures(store.db, workspaceId, now);
  const n = ids.length;
  const d = FEATURES.length;
  if (n < Math.max(20, o.kMin * 5)) return { skipped: `only ${n} customers with purchases: too few to cluster`, customers: n };
  const x = matrix(n, d, FEATURES.map((f) => f.key));
  for (let i = 0; i < n * d; i++) {
    const v = raw[i]!;
    x.data[i] = FEATURES[i % d]!.log ? Math.log1p(Math.max(0, v)) : v;
  }
  // fit on a seeded sample; assign everyone
  let fitOn = x;
  if (n > o.sample) {
    const rand = rng(o.seed);
    const idx = Uint32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < o.sample; i++) {
      const j = i + Math.floor(rand() * (n - i));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    fitOn = takeRows(x, idx.subarray(0, o.sample).sort());
  }
  const fitted = fitKMeans(fitOn, { kRange: [o.kMin, Math.min(o.kMax, fitOn.rows - 1)], restarts: 3, seed: o.seed, silhouetteSample: 2000 });
  const assign = assignKMeans(fitted, x);
  // number clusters by size, largest first
  const sizes = new Array(fitted.k).fill(0);
  for (const a of assign) sizes[a]++;
  const order = sizes.map((s, c) => ({ s, c })).sort((a, b) => b.s - a.s || a.c - b.c);
  const renum = new Array(fitted.k);
  order.forEach((v, i) => {
    renum[v.c] = i;
  });
  const sums = Array.from({ length: fitted.k }, () => new Array(d).fill(0));
  const overall = new Array(d).fill(0);
  for (let i = 0; i < n; i++) {
    const c = assign[i]!;
    for (let j = 0; j < d; j++) {
      sums[c]![j] += raw[i * d + j]!;
      overall[j] += raw[i * d + j]! / n;
    }
  }
  const model: KMeansModel = { ...fitted, centroids: [], sizes: [] };
  for (const { c } of order) {
    model.centroids.push(...fitted.centroids.slice(c * d, (c + 1) * d));
    model.sizes.push(sizes[c]);
  }
  const profiles = order.map(({ c, s }, i) => describe(model, i, sums[c]!.map((v) => v / Math.max(1, s)), overall, s, n));
  const silhouette = fitted.silhouettes?.find((v) => v.k === fitted.k)?.silhouette ?? null;
  const asOf = now.toISOString();
  await store.session(async (s) => {
    await sql`begin`.execute(s.db);
    await s.db.deleteFrom('customer_clusters').where('workspace_id', '=', workspaceId).execute();
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`${workspaceId},${csvText(ids[i]!)},${renum[assign[i]!] + 1},${asOf}\n`);
    const chunks = function* () {
      for (let i = 0; i < lines.length; i += 5000) yield lines.slice(i, i + 5000).join('');
    };
    await s.copyCsv('customer_clusters', ['workspace_id', 'customer_id', 'cluster', 'as_of'], chunks());
    await s.db
      .insertInto('cluster_profiles')
      .values({
        workspace_id: workspaceId,
        run_at: new Date(),
        as_of: now,
        k: fitted.k,
        silhouette,
        customers: n,
        profiles: JSON.stringify(profiles.map((p) => ({ ...p, cluster: p.cluster + 1 }))),
        model: JSON.stringify({ ...model, silhouettes: fitted.silhouettes, sample: fitOn.rows, features: FEATURES.map((f) => ({ key: f.key, log: f.log })) }),
      })
      .execute();
    await sql`commit`.execute(s.db);
  });
  return { customers: n, k: fitted.k, silhouette, profiles: profiles.map((p) => ({ cluster: p.cluster + 1, size: p.size, label: p.label.en })) };
}

export function latestClusters(db: Kysely<Database>, workspaceId: number) {
  return db.selectFrom('cluster_profiles').selectAll().where('workspace_id', '=', workspaceId).orderBy('run_at', 'desc').limit(1).executeTakeFirst();
}

export async function customerCluster(db: Kysely<Database>, workspaceId: number, customerId: string) {
  const row = await db.selectFrom('customer_clusters').selectAll().where('workspace_id', '=', workspaceId).where('customer_id', '=', customerId).executeTakeFirst();
  if (!row) return null;
  const latest = await latestClusters(db, workspaceId);
  const profile = ((latest?.profiles as ClusterProfileOut[] | undefined) ?? []).find((p) => p.cluster === row.cluster) ?? null;
  return { cluster: row.cluster, as_of: row.as_of, label: profile?.label ?? null, description: profile?.description ?? null };
}

export const clustersStep: Step = {
  name: 'clusters',
  title: { en: 'Behavioural clusters (k-means, weekly)', zh: '行为聚类（k-means，每周）' },
  async run(ctx) {
    if (ctx.mode !== 'full') {
      const last = await latestClusters(ctx.db, ctx.workspaceId);
      const age = last ? ctx.now.getTime() - last.as_of.getTime() : Number.POSITIVE_INFINITY;
      if (age >= 0 && age < (await loadPredictionSettings(ctx.db, ctx.workspaceId)).clusters.everyDays * DAY_MS) {
        return { skipped: `clustered ${(age / DAY_MS).toFixed(1)} days ago; runs weekly (a full run always clusters)` };
      }
    }
    await requireFigures(ctx.db, ctx.workspaceId, 'clusters');
    return { ...(await computeClusters(ctx.store, ctx.workspaceId, ctx.now)) };
  },
};
