// The demo business generator: 24 months of customer history ending at `now`,
// written as CSV lines (RFC 4180, empty unquoted field = NULL) ready for
// Session.copyCsv. Pure and deterministic: customer i's history depends only
// on (seed, i, N, industry, now), so batches can be generated in any order,
// in any process, with the same result.
//
// The story (docs/demo.md): each customer buys as a Poisson process with a
// gamma-distributed rate λ and, after every purchase, drops out with a
// beta-distributed probability p (BG/NBD). Spend per order is gamma around a
// per-customer mean drawn from an inverse gamma (Gamma-Gamma). Engagement
// (sessions, lessons, visits) thins out in the six weeks before drop-out,
// complaints and negative survey answers cluster there, and a churn-reason
// survey sometimes follows.
import { INDUSTRY, type Industry, type IndustryKey, type Product } from './catalogue.ts';
import { choice, draw, mix32, Rng } from './random.ts';
import {
  AGENTS,
  type Cause,
  CHURN_REASON_OF,
  CHURN_TEXT,
  COMPLAINTS,
  EMAIL_DOMAINS_CN,
  EMAIL_DOMAINS_EN,
  EN_FIRST_F,
  EN_FIRST_M,
  EN_LAST,
  FOREIGN_TIME_ZONES,
  GIVEN_CHARS,
  INQUIRIES,
  MOBILE_PREFIXES,
  PLACES,
  STAFF,
  SUGGESTIONS,
  SURNAMES,
  SURVEY_TEXT,
  TICKET_CATEGORY_OF,
} from './text.ts';

export interface DemoParams {
  customers: number;
  seed: number;
  industry: IndustryKey;
  now: Date;
  workspaceId: number;
}

/** Every table the demo writes, with the columns in CSV order. */
export const DEMO_COLUMNS = {
  customers: [
    'workspace_id', 'id', 'name', 'phone', 'email', 'gender', 'birthday', 'region', 'city', 'time_zone', 'registered_at',
    'acquisition_channel', 'membership_level', 'membership_expires_at', 'owner', 'preferred_channel', 'consent', 'attributes',
    'created_at', 'updated_at', 'stats_first_order_at', 'stats_last_order_at', 'stats_orders', 'stats_spend',
  ],
  products: ['workspace_id', 'id', 'name', 'category', 'price', 'attributes', 'created_at', 'updated_at'],
  orders: [
    'workspace_id', 'id', 'customer_id', 'ordered_at', 'amount', 'discount', 'coupon_code', 'status', 'store', 'channel',
    'attributes', 'created_at', 'updated_at',
  ],
  order_lines: ['workspace_id', 'order_id', 'line_no', 'product_id', 'category', 'quantity', 'price'],
  events: ['workspace_id', 'message_id', 'customer_id', 'type', 'occurred_at', 'received_at', 'properties'],
  tickets: [
    'workspace_id', 'id', 'customer_id', 'kind', 'category', 'priority', 'status', 'channel', 'subject', 'body', 'owner',
    'created_at', 'first_response_at', 'resolved_at', 'due_at', 'csat', 'updated_at',
  ],
  survey_responses: [
    'workspace_id', 'id', 'customer_id', 'survey', 'responded_at', 'nps', 'csat', 'churn_reason', 'text', 'attributes', 'updated_at',
  ],
  referrals: ['workspace_id', 'id', 'referrer_id', 'referee_id', 'referred_at', 'converted_at'],
  coupons: ['workspace_id', 'code', 'customer_id', 'campaign', 'value', 'min_spend', 'issued_at', 'expires_at', 'redeemed_at', 'order_id'],
  demo_truth: ['workspace_id', 'customer_id', 'purchase_rate', 'dropout_probability', 'dropped_out_at', 'mean_spend', 'segment'],
} as const;

export type DemoTable = keyof typeof DEMO_COLUMNS;
export const DEMO_TABLES = Object.keys(DEMO_COLUMNS) as DemoTable[];
/** Tables written per customer batch (products are written once). */
export const BATCH_TABLES = DEMO_TABLES.filter((t) => t !== 'products');

export const DAY = 86_400_000;
export const HISTORY_DAYS = 730;
/** Engagement starts thinning this long before the drop-out date. */
export const THINNING_DAYS = 42;

// ---------------------------------------------------------------- formatting

const P2: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const dayCache = new Map<number, string>();

function dateOf(day: number): string {
  let d = dayCache.get(day);
  if (d === undefined) {
    d = new Date(day * DAY).toISOString().slice(0, 10);
    dayCache.set(day, d);
  }
  return d;
}

/** 'YYYY-MM-DD HH:MM:SS+00' to the second. */
export function ts(ms: number): string {
  const s = Math.floor(ms / 1000);
  const day = Math.floor(s / 86400);
  let r = s - day * 86400;
  const h = (r / 3600) | 0;
  r -= h * 3600;
  const mi = (r / 60) | 0;
  return dateOf(day) + ' ' + P2[h] + ':' + P2[mi] + ':' + P2[r - mi * 60] + '+00';
}

/**
 * A customer's order summary as customers.stats_* hold it (customers.stats.ts): first
 * and last paid order, paid orders and spend. Written with the customer, the pipeline's
 * first pass finds nothing to change instead of rewriting every customer row (non-HOT,
 * into all of customers' indexes).
 */
class OrderStats {
  first = Number.POSITIVE_INFINITY;
  last = Number.NEGATIVE_INFINITY;
  orders = 0;
  cents = 0;
  add(at: number, cents: number, paid: boolean): void {
    if (!paid) return;
    this.orders++;
    this.cents += cents;
    if (at < this.first) this.first = at;
    if (at > this.last) this.last = at;
  }
  /** stats_first_order_at, stats_last_order_at, stats_orders, stats_spend */
  customerColumns(): string {
    const paid = this.orders > 0;
    return `${paid ? ts(this.first) : ''},${paid ? ts(this.last) : ''},${this.orders},${money(this.cents)}`;
  }
}

/** cents → '123.45' */
function money(cents: number): string {
  return ((cents / 100) | 0) + '.' + P2[cents % 100];
}

/** RFC 4180 quoting: always quoted, inner quotes doubled. An empty string stays a (quoted) empty string, never NULL. */
export function q(s: string): string {
  return s.indexOf('"') < 0 ? '"' + s + '"' : '"' + s.replaceAll('"', '""') + '"';
}

function json(o: unknown): string {
  return q(JSON.stringify(o));
}

function pad7(n: number): string {
  const s = String(n);
  return s.length >= 7 ? s : '0000000'.slice(s.length) + s;
}

export function customerId(i: number): string {
  return 'C' + pad7(i + 1);
}

// ---------------------------------------------------------------- output

const CHUNK_BYTES = 1 << 20;

/**
 * CSV text per table, in chunks of about a megabyte. Each line is encoded into
 * a buffer as soon as it is made, so its pieces die young (cheap for the GC)
 * and a chunk is one flat string — or, for a Sink of bytes, the UTF-8 buffer
 * itself (each chunk its own ArrayBuffer, so a worker can transfer it without
 * a copy and the store can send it without re-encoding). Same bytes either way.
 */
export class Sink<C extends string | Uint8Array = string> {
  readonly chunks: Record<string, C[]> = {};
  readonly rows: Record<string, number> = {};
  private readonly bufs: Record<string, Buffer> = {};
  private readonly pos: Record<string, number> = {};
  private readonly bytes: boolean;

  constructor(tables: readonly string[], bytes = false) {
    this.bytes = bytes;
    for (const t of tables) {
      this.chunks[t] = [];
      this.rows[t] = 0;
      this.bufs[t] = Buffer.allocUnsafe(CHUNK_BYTES);
      this.pos[t] = 0;
    }
  }

  add(table: DemoTable, line: string): void {
    this.rows[table]!++;
    let buf = this.bufs[table]!;
    let pos = this.pos[table]!;
    // a line is far below 16 kB; flush when a long one might not fit
    if (pos + line.length * 3 + 1 > CHUNK_BYTES) {
      buf = this.flush(table, buf, pos);
      pos = 0;
    }
    pos += buf.write(line, pos);
    buf[pos++] = 10;
    this.pos[table] = pos;
  }

  private flush(table: string, buf: Buffer, pos: number): Buffer {
    if (!this.bytes) {
      this.chunks[table]!.push(buf.toString('utf8', 0, pos) as C);
      return buf;
    }
    this.chunks[table]!.push(buf.subarray(0, pos) as unknown as C);
    this.bufs[table] = Buffer.allocUnsafe(CHUNK_BYTES); // large: never from the shared pool
    return this.bufs[table]!;
  }

  finish(): this {
    for (const t of Object.keys(this.bufs)) {
      if (this.pos[t]) this.flush(t, this.bufs[t]!, this.pos[t]);
      this.pos[t] = 0;
    }
    return this;
  }
}

export interface Batch<C extends string | Uint8Array = string> {
  from: number;
  to: number;
  chunks: Record<string, C[]>;
  rows: Record<string, number>;
}

// ---------------------------------------------------------------- the story

const CAUSES = choice<Cause>([['price', 28], ['slow_service', 22], ['logistics', 18], ['product_quality', 14], ['slow_product_updates', 12], ['other', 6]]);
const PRIORITY = choice<string>([['urgent', 10], ['important', 30], ['general', 60]]);
const SLA_HOURS: Record<string, number> = { urgent: 24, important: 72, general: 168, minor: 0.5 };
const TICKET_CHANNELS = choice([['phone', 35], ['wechat', 35], ['app', 20], ['email', 10]]);
const PREFERRED = choice([['wechat', 45], ['app', 25], ['sms', 20], ['email', 10]]);
const CONSENT_CHANNELS = ['sms', 'email', 'wechat', 'app'] as const;
const COUPON_VALUES = [5, 10, 20, 30, 50, 100, 200, 500];

interface CatalogueIndex {
  industry: Industry;
  products: Product[];
  /** products sorted by price, per category and overall */
  byCategory: Product[][];
  all: Product[];
  consumables: Product[];
  byId: Map<string, Product>;
  /** pre-quoted product_view properties */
  viewProps: Map<string, string>;
  cheapest: number;
}

const catalogueCache = new Map<IndustryKey, CatalogueIndex>();

function catalogue(key: IndustryKey): CatalogueIndex {
  let c = catalogueCache.get(key);
  if (c) return c;
  const industry = INDUSTRY[key];
  const products = industry.products;
  const cats = [...new Set(products.map((p) => p.category))];
  const byPrice = (a: Product, b: Product) => a.price - b.price;
  const all = [...products].sort(byPrice);
  c = {
    industry,
    products,
    byCategory: cats.map((cat) => products.filter((p) => p.category === cat && !p.membershipDays).sort(byPrice)).filter((l) => l.length > 0),
    all: all.filter((p) => !p.membershipDays),
    consumables: products.filter((p) => p.repurchaseDays && !p.membershipDays),
    byId: new Map(products.map((p) => [p.id, p])),
    viewProps: new Map(products.map((p) => [p.id, json({ product_id: p.id })])),
    cheapest: all[0]!.price,
  };
  catalogueCache.set(key, c);
  return c;
}

/** The product catalogue as CSV lines. */
export function catalogueCsv(p: DemoParams): string {
  const start = p.now.getTime() - HISTORY_DAYS * DAY;
  let out = '';
  for (const pr of INDUSTRY[p.industry].products) {
    const attrs: Record<string, unknown> = {};
    if (pr.repurchaseDays) attrs.repurchase_days = pr.repurchaseDays;
    if (pr.followUpId) attrs.often_followed_by = { product_id: pr.followUpId, after_days: pr.followUpDays };
    if (pr.membershipDays) attrs.membership_days = pr.membershipDays;
    out += `${p.workspaceId},${pr.id},${q(pr.name)},${q(pr.category)},${pr.price}.00,${json(attrs)},${ts(start)},${ts(start)}\n`;
  }
  return out;
}

interface Line {
  product: Product;
  qty: number;
  cents: number;
}

/** Engagement multiplier at time t for a customer who drops out at D (NaN: never). */
function engagement(t: number, D: number): number {
  if (Number.isNaN(D) || t < D - THINNING_DAYS * DAY) return 1;
  if (t < D) return 0.12 + (0.88 * (D - t)) / (THINNING_DAYS * DAY);
  return 0.03;
}

function lang(en: boolean): 'zh' | 'en' {
  return en ? 'en' : 'zh';
}

/**
 * Generates customers [from, to) of the demo business. Everything about
 * customer i comes from Rng(seed, i), so the result does not depend on how
 * the range is split into batches.
 */
export function generateBatch(params: DemoParams, from: number, to: number): Batch {
  return generateInto(new Sink(BATCH_TABLES), params, from, to);
}

/** generateBatch with each chunk as UTF-8 bytes (the same bytes), for the worker thread. */
export function generateBatchBytes(params: DemoParams, from: number, to: number): Batch<Uint8Array> {
  return generateInto(new Sink<Uint8Array>(BATCH_TABLES, true), params, from, to);
}

function generateInto<C extends string | Uint8Array>(sink: Sink<C>, params: DemoParams, from: number, to: number): Batch<C> {
  const cat = catalogue(params.industry);
  const ind = cat.industry;
  const ws = params.workspaceId;
  const now = Math.floor(params.now.getTime() / 1000) * 1000;
  const start = now - HISTORY_DAYS * DAY;
  const N = params.customers;
  const seed = params.seed | 0;
  const nowYear = new Date(now).getUTCFullYear();

  for (let i = from; i < to; i++) {
    const rng = new Rng(seed, i);
    const cid = customerId(i);

    // --- who they are
    // Ids grow with registration time; registrations grow over the two years.
    const reg = Math.min(now - 3_600_000, Math.floor(start + HISTORY_DAYS * DAY * ((i + rng.next()) / N) ** (1 / 1.6)));
    const lambda = Math.max(1e-4, rng.gamma(ind.rateShape, ind.rateMean / ind.rateShape)); // per day
    const p = rng.beta(ind.dropA, ind.dropB);
    const priceSens = rng.beta(1.2, 3);
    // Gamma-Gamma: the per-customer mean spend is inverse-gamma; E[m] = spendMean
    const nu = rng.gamma(ind.spendShape, 1);
    const meanSpend = Math.min(ind.spendMean * 15, (ind.spendMean * (ind.spendShape - 1)) / nu);
    const en = rng.chance(0.07);
    const cause = draw(rng, CAUSES);
    const neverBuys = rng.chance(0.05);

    // --- purchases (BG/NBD)
    const orderTimes: number[] = [];
    let D = Number.NaN; // drop-out time
    let t = reg + Math.floor(rng.exp(2 * DAY));
    if (neverBuys) {
      D = Math.min(now, reg + Math.floor(rng.exp(20 * DAY)));
    } else if (t <= now) {
      orderTimes.push(t);
      for (;;) {
        if (rng.chance(p) || orderTimes.length >= 600) {
          // gone after this purchase; they drift off before they would have bought again
          D = Math.min(now, t + Math.floor(Math.min(rng.exp(0.5 / lambda), 60) * DAY));
          break;
        }
        t += Math.floor(rng.exp(DAY / lambda));
        if (t > now) break;
        orderTimes.push(t);
      }
    }
    const dropped = !Number.isNaN(D);
    const activeEnd = dropped ? Math.min(now, D + 120 * DAY) : now;

    // --- orders and lines
    const homeStore = rng.pick(ind.stores);
    const favChannel = draw(rng, ind.channels);
    const favCat = rng.int(cat.byCategory.length);
    const adopted = cat.consumables.filter(() => rng.chance(0.25));
    const lastBought = new Map<string, number>();
    let pending: { product: Product; due: number }[] = [];
    const memberCard = cat.products.find((pr) => pr.membershipDays && 1 / lambda < pr.membershipDays + 15) ?? cat.products.find((pr) => pr.membershipDays);
    const memberIntervals: number[] = []; // [start, end, start, end, …]
    let memberUntil = 0;
    let spent12m = 0;
    const stats = new OrderStats();
    let paidVisits = 0;
    let nCoupons = 0;
    let currentCourse = '';
    for (let k = 0; k < orderTimes.length; k++) {
      const ot = orderTimes[k]!;
      const lines: Line[] = [];
      const add = (product: Product, qty: number) => {
        if (lines.some((l) => l.product === product)) return;
        lines.push({ product, qty, cents: product.price * 100 });
      };
      if (ind.key === 'fitness' && memberCard?.membershipDays && ot >= memberUntil - 7 * DAY) {
        add(memberCard, 1);
        const s = Math.max(ot, memberUntil);
        memberUntil = s + memberCard.membershipDays * DAY;
        memberIntervals.push(s, memberUntil);
      }
      for (const c of adopted) {
        const last = lastBought.get(c.id);
        if ((last === undefined || ot - last >= 0.8 * c.repurchaseDays! * DAY) && rng.chance(0.6)) add(c, rng.chance(0.2) ? 2 : 1);
      }
      if (pending.length) {
        pending = pending.filter((f) => {
          if (ot > f.due + 120 * DAY) return false;
          if (ot >= f.due - 15 * DAY && rng.chance(0.7)) {
            add(f.product, 1);
            return false;
          }
          return true;
        });
      }
      // fill up to this order's value
      const target = rng.gamma(ind.orderShape, meanSpend / ind.orderShape);
      let remaining = target - lines.reduce((s, l) => s + l.product.price * l.qty, 0);
      while (remaining > cat.cheapest * 0.5 && lines.length < 5) {
        const pool = rng.chance(0.6) ? cat.byCategory[favCat]! : cat.byCategory[rng.int(cat.byCategory.length)]!;
        let n = upperPrice(pool, remaining * 1.3);
        let list = pool;
        if (n === 0) {
          list = cat.all;
          n = upperPrice(list, remaining * 1.3);
        }
        if (n === 0) break;
        const pr = list[rng.int(n)]!;
        const qty = pr.price * 3 < remaining && (pr.repurchaseDays || pr.price < 50) ? 1 + rng.int(3) : 1;
        const before = lines.length;
        add(pr, qty);
        if (lines.length === before) {
          remaining -= pr.price; // already in the basket: count it as considered
          continue;
        }
        remaining -= pr.price * qty;
        if (pr.followUpId) pending.push({ product: cat.byId.get(pr.followUpId)!, due: ot + (pr.followUpDays! + 15 * rng.normal()) * DAY });
      }
      if (lines.length === 0) add(cat.byCategory[favCat]![0]!, 1);
      for (const l of lines) {
        if (l.product.repurchaseDays) lastBought.set(l.product.id, ot);
        if (ind.key === 'education' && l.product.price >= 1000) currentCourse = l.product.id;
      }

      let gross = 0;
      for (const l of lines) gross += l.cents * l.qty;
      let discount = 0;
      let couponCode = '';
      let attrs = '{}';
      const channel = rng.chance(0.8) ? favChannel : draw(rng, ind.channels);
      if (ind.key === 'restaurant') {
        if (channel === 'dine_in') {
          paidVisits++;
          if (paidVisits % 5 === 0) {
            // punch card: every fifth dine-in visit, the signature dish is on the house
            const dish = cat.byId.get('R001')!;
            lines.push({ product: dish, qty: 1, cents: dish.price * 100 });
            gross += dish.price * 100;
            discount += dish.price * 100;
          }
          attrs = json({ punch: paidVisits % 5 === 0 ? 5 : paidVisits % 5 });
        }
      }
      const oid = cid + '-' + (k + 1);
      if (rng.chance(0.03 + 0.45 * priceSens)) {
        // price-sensitive customers bring coupons
        let v = COUPON_VALUES[0]!;
        for (const cv of COUPON_VALUES) if (cv * 100 <= gross * 0.25) v = cv;
        const issued = Math.max(reg, ot - Math.floor(rng.uniform(1, 20) * DAY));
        couponCode = 'CP' + cid.slice(1) + '-' + ++nCoupons;
        discount += Math.min(v * 100, gross - discount);
        sink.add(
          'coupons',
          `${ws},${couponCode},${cid},${q(rng.chance(0.5) ? 'repurchase' : 'member_day')},${v}.00,${v * 4}.00,${ts(issued)},${ts(issued + 30 * DAY)},${ts(ot)},${oid}`,
        );
      }
      const nearDrop = dropped && ot > D - 60 * DAY;
      const r = rng.next();
      const status = r < (nearDrop ? 0.1 : 0.025) ? 'returned' : r < (nearDrop ? 0.15 : 0.04) ? 'refunded' : 'paid';
      const amount = gross - discount;
      if (status === 'paid') {
        if (ot > now - 365 * DAY) spent12m += amount;
      }
      stats.add(ot, amount, status === 'paid');
      const store = channel === 'store' || channel === 'dine_in' || channel === 'front_desk' || channel === 'offline_campus' ? homeStore : '';
      const ots = ts(ot);
      sink.add(
        'orders',
        `${ws},${oid},${cid},${ots},${money(amount)},${money(discount)},${couponCode},${status},${store && q(store)},${channel},${attrs},${ots},${ots}`,
      );
      for (let j = 0; j < lines.length; j++) {
        const l = lines[j]!;
        sink.add('order_lines', `${ws},${oid},${j + 1},${l.product.id},${q(l.product.category)},${l.qty},${money(l.cents)}`);
      }
    }

    // coupons handed out but never used
    const unused = rng.poisson(0.3 + priceSens);
    for (let k = 0; k < unused; k++) {
      const issued = reg + Math.floor(rng.next() * (activeEnd - reg));
      const v = rng.pick(COUPON_VALUES.slice(0, 5));
      sink.add(
        'coupons',
        `${ws},${'CP' + cid.slice(1) + '-' + ++nCoupons},${cid},${q(rng.chance(0.5) ? 'win_back' : 'birthday')},${v}.00,${v * 5}.00,${ts(issued)},${ts(issued + 30 * DAY)},,`,
      );
    }

    // --- behaviour: sessions, thinning before drop-out
    let nEv = 0;
    const event = (type: string, at: number, props: string) => {
      sink.add('events', `${ws},${cid}-${++nEv},${cid},${type},${ts(at)},${ts(at + 2000)},${props}`);
    };
    const eta = Math.max(0.01, lambda * ind.sessionsPerPurchase * Math.exp(0.5 * rng.normal() - 0.125));
    const platform = rng.chance(0.6) ? '"{""platform"":""app""}"' : '"{""platform"":""mini_program""}"';
    t = reg;
    for (;;) {
      t += Math.floor(rng.exp(DAY / eta));
      if (t > activeEnd) break;
      const f = engagement(t, D);
      if (f < 1 && rng.next() >= f) continue;
      event('login', t, platform);
      const extra = rng.poisson(ind.eventsPerSession);
      for (let e = 0; e < extra; e++) {
        const type = draw(rng, ind.sessionEvents);
        const at = t + 20_000 + e * 45_000;
        if (type === 'product_view' || type === 'add_to_cart' || type === 'course_view') event(type, at, cat.viewProps.get(rng.pick(cat.products).id)!);
        else if (type === 'search') event(type, at, json({ query: rng.pick(cat.products).name.split(' ')[0] }));
        else event(type, at, '{}');
      }
    }
    if (ind.coreEvent && orderTimes.length > 0) {
      const rate = (ind.coreEvent.perWeek / 7) * rng.gamma(3, 1 / 3);
      let lesson = 0;
      let mi = 0;
      t = orderTimes[0]!;
      for (;;) {
        t += Math.floor(rng.exp(DAY / rate));
        if (t > activeEnd) break;
        const f = engagement(t, D);
        if (f < 1 && rng.next() >= f) continue;
        if (ind.key === 'fitness') {
          while (mi < memberIntervals.length && memberIntervals[mi + 1]! < t) mi += 2;
          if (mi >= memberIntervals.length || memberIntervals[mi]! > t) continue; // no valid card that day
          event('visit', t, json({ store: homeStore }));
        } else {
          event(ind.coreEvent.type, t, json({ course_id: currentCourse || 'E001', lesson: ++lesson }));
        }
      }
    }

    // --- service: tickets and CSAT
    let nT = 0;
    let nS = 0;
    const ticket = (at: number, kind: string, category: string, unhappy: boolean) => {
      if (at > now) return;
      const l = lang(en);
      const texts = kind === 'complaint' ? (COMPLAINTS[category] ?? COMPLAINTS.billing!)[l] : kind === 'inquiry' ? INQUIRIES[l] : SUGGESTIONS[l];
      const [subject, body] = rng.pick(texts);
      const priority = kind === 'complaint' && category === 'logistics' && rng.chance(0.3) ? 'minor' : kind === 'complaint' ? draw(rng, PRIORITY) : 'general';
      const slaMs = SLA_HOURS[priority]! * 3_600_000;
      const breach = rng.chance(unhappy ? 0.5 : 0.08);
      const firstResponse = at + Math.floor((breach ? rng.uniform(0.2, 1) : rng.uniform(0.01, 0.2)) * slaMs);
      const resolved = at + Math.floor((breach ? rng.uniform(1.1, 3) : rng.uniform(0.1, 0.95)) * slaMs);
      const done = resolved <= now;
      const csat = done && rng.chance(0.7) ? (unhappy ? 1 + rng.int(2) : rng.chance(0.8) ? 4 + rng.int(2) : 3) : 0;
      const status = done ? (rng.chance(0.3) ? 'closed' : 'resolved') : firstResponse <= now ? 'pending' : 'open';
      const id = cid + '-T' + ++nT;
      sink.add(
        'tickets',
        `${ws},${id},${cid},${kind},${q(category)},${priority},${status},${draw(rng, TICKET_CHANNELS)},${q(subject)},${q(body)},${rng.pick(AGENTS)},` +
          `${ts(at)},${firstResponse <= now ? ts(firstResponse) : ''},${done ? ts(resolved) : ''},${ts(at + slaMs)},${csat || ''},${ts(done ? resolved : at)}`,
      );
      if (csat && rng.chance(0.4) && resolved + DAY <= now) {
        const tone = csat >= 4 ? 'positive' : csat === 3 ? 'neutral' : 'negative';
        const text = rng.chance(0.6) ? q(rng.pick(SURVEY_TEXT[tone][l])) : '';
        const at2 = resolved + DAY + rng.int(DAY);
        sink.add('survey_responses', `${ws},${cid}-S${++nS},${cid},csat,${ts(at2)},,${csat},,${text},${json({ ticket_id: id })},${ts(at2)}`);
      }
    };
    const years = (activeEnd - reg) / (365 * DAY);
    const nBase = rng.poisson(ind.ticketsPerYear * years);
    for (let k = 0; k < nBase; k++) {
      const at = reg + Math.floor(rng.next() * (activeEnd - reg));
      const r = rng.next();
      ticket(at, r < 0.5 ? 'inquiry' : r < 0.65 ? 'suggestion' : 'complaint', r < 0.65 ? 'feature' : rng.pick(Object.keys(COMPLAINTS)), false);
    }
    if (dropped && !neverBuys && rng.chance(0.5)) {
      const n = rng.chance(0.3) ? 2 : 1;
      for (let k = 0; k < n; k++) ticket(D - Math.floor(rng.uniform(3, 50) * DAY), 'complaint', TICKET_CATEGORY_OF[cause], true);
    }

    // --- surveys: NPS for everyone now and then; the churn-reason survey after drop-out
    const nNps = rng.poisson(0.35 * years);
    for (let k = 0; k < nNps; k++) {
      const at = reg + 7 * DAY + Math.floor(rng.next() * (activeEnd - reg - 7 * DAY));
      if (at <= reg || at > now) continue;
      const unhappy = dropped && at > D - 60 * DAY;
      const score = Math.max(0, Math.min(10, Math.round(unhappy ? 3.5 + 2 * rng.normal() : 8.3 + 1.5 * rng.normal())));
      const tone = score >= 9 ? 'positive' : score >= 7 ? 'neutral' : 'negative';
      const text = rng.chance(0.5) ? q(rng.pick(SURVEY_TEXT[tone][lang(en)])) : '';
      sink.add('survey_responses', `${ws},${cid}-S${++nS},${cid},nps,${ts(at)},${score},,,${text},{},${ts(at)}`);
    }
    if (dropped && !neverBuys && rng.chance(0.35)) {
      const at = D + Math.floor(rng.uniform(5, 30) * DAY);
      if (at <= now) {
        const reason = CHURN_REASON_OF[cause];
        const text = rng.chance(0.7) ? q(rng.pick(CHURN_TEXT[reason]![lang(en)])) : '';
        sink.add('survey_responses', `${ws},${cid}-S${++nS},${cid},churn_reason,${ts(at)},,,${reason},${text},"{""points_awarded"":10}",${ts(at)}`);
      }
    }

    // --- referrals
    const referred = i > 0 && rng.chance(0.1);
    if (referred) {
      const referrer = customerId(rng.int(i));
      const conv = orderTimes.length ? ts(orderTimes[0]!) : '';
      sink.add('referrals', `${ws},R${cid.slice(1)},${referrer},${cid},${ts(Math.max(start, reg - Math.floor(rng.uniform(0, 5) * DAY)))},${conv}`);
    }
    if (!dropped && orderTimes.length > 2 && rng.chance(0.05)) {
      const at = reg + Math.floor(rng.next() * (now - reg));
      sink.add('referrals', `${ws},R${cid.slice(1)}-x,${cid},,${ts(at)},`);
    }

    // --- profile
    const female = rng.chance(0.56);
    const gender = rng.chance(0.04) ? '' : rng.chance(0.01) ? 'other' : female ? 'female' : 'male';
    let name: string;
    let emailLocal: string;
    if (en) {
      const first = rng.pick(female ? EN_FIRST_F : EN_FIRST_M);
      const last = rng.pick(EN_LAST);
      name = first + ' ' + last;
      emailLocal = (first + '.' + last).toLowerCase() + (i % 1000);
    } else {
      const [sn, py] = draw(rng, SURNAMES);
      const g = GIVEN_CHARS[rng.int(GIVEN_CHARS.length)]! + (rng.chance(0.7) ? GIVEN_CHARS[rng.int(GIVEN_CHARS.length)]! : '');
      name = sn + g;
      emailLocal = py + (mix32(i ^ seed) % 100000);
    }
    // unique per customer: a bijection of i onto 8 digits
    const phone = '+86' + rng.pick(MOBILE_PREFIXES) + String((i * 7_654_321 + 1_234_567) % 100_000_000).padStart(8, '0');
    const email = rng.chance(en ? 0.95 : 0.6) ? emailLocal + '@' + draw(rng, en ? EMAIL_DOMAINS_EN : EMAIL_DOMAINS_CN) : '';
    const [region, city] = draw(rng, PLACES);
    const tz = rng.chance(en ? 0.5 : 0.03) ? rng.pick(FOREIGN_TIME_ZONES) : 'Asia/Shanghai';
    const birthday = rng.chance(0.8)
      ? `${nowYear - ind.ages[0] - rng.int(ind.ages[1] - ind.ages[0])}-${P2[1 + rng.int(12)]}-${P2[1 + rng.int(28)]}`
      : '';
    const referralChannel = referred ? 'referral' : draw(rng, ind.acquisition);
    const acq = referralChannel === 'referral' && !referred ? 'organic' : referralChannel;
    const lastOrder = orderTimes.length ? orderTimes[orderTimes.length - 1]! : Number.NaN;
    let level = '';
    let expires = '';
    if (orderTimes.length) {
      level = spent12m >= ind.spendMean * 1500 ? 'gold' : spent12m >= ind.spendMean * 400 ? 'jade' : 'silver';
      expires = ts(ind.key === 'fitness' && memberUntil ? memberUntil : lastOrder + 365 * DAY);
    }
    const owner = level === 'gold' ? (rng.chance(0.9) ? rng.pick(STAFF) : '') : level === 'jade' && rng.chance(0.4) ? rng.pick(STAFF) : rng.chance(0.03) ? rng.pick(STAFF) : '';
    const consent: Record<string, { marketing: boolean; service: boolean }> = {};
    for (const ch of CONSENT_CHANNELS) {
      if (ch === 'email' && !email) continue;
      consent[ch] = { marketing: rng.chance(ch === 'wechat' ? 0.8 : 0.6), service: rng.chance(0.95) };
    }
    let preferred = draw(rng, PREFERRED);
    if (!consent[preferred]?.marketing) preferred = CONSENT_CHANNELS.find((ch) => consent[ch]?.marketing) ?? '';
    const attributes: Record<string, unknown> = {};
    if (ind.key === 'retail' && rng.chance(0.25)) attributes.baby_birth_date = dateOf(Math.floor((reg - rng.uniform(-120, 300) * DAY) / DAY));
    if (ind.key === 'education' && orderTimes.length) attributes.course_start = dateOf(Math.floor((orderTimes[0]! + 7 * DAY) / DAY));
    if (ind.key === 'fitness' && memberUntil) attributes.renewal_date = dateOf(Math.floor(memberUntil / DAY));
    if (ind.key === 'restaurant') attributes.punch_card = paidVisits % 5;
    const regTs = ts(reg);
    const customerLine = (id: string, mail: string, regAt: string, acqCh: string, st: OrderStats) =>
      `${ws},${id},${q(name)},${phone},${mail},${gender},${birthday},${region},${city},${tz},${regAt},${acqCh},${level},${expires},${owner && q(owner)},${preferred},${json(consent)},${json(attributes)},${regAt},${regAt},${st.customerColumns()}`;
    sink.add('customers', customerLine(cid, email, regTs, acq, stats));

    // --- ground truth
    let segment: string;
    if (neverBuys) segment = 'registered_only';
    else if (dropped) segment = 'churned_' + cause;
    else if (reg > now - 90 * DAY) segment = 'new';
    else if (lambda >= 2 * ind.rateMean && meanSpend >= ind.spendMean) segment = 'champion';
    else if (lambda >= ind.rateMean) segment = 'loyal';
    else segment = 'occasional';
    const truth = (id: string, seg: string) =>
      `${ws},${id},${neverBuys ? 0 : lambda},${neverBuys ? 1 : p},${dropped ? ts(D) : ''},${meanSpend},${seg}`;
    sink.add('demo_truth', truth(cid, segment));

    // --- a few duplicate identities: the same phone under a second id (e.g. a mini-program sign-up)
    if (i > 0 && orderTimes.length > 1 && rng.chance(0.006)) {
      const did = 'M' + cid.slice(1);
      const dupReg = reg + Math.floor(rng.next() * (lastOrder - reg));
      const ot = dupReg + Math.floor(rng.next() * (lastOrder - dupReg));
      const pr = cat.byCategory[favCat]![0]!;
      const dupStats = new OrderStats();
      dupStats.add(ot, pr.price * 100, true);
      sink.add('customers', customerLine(did, '', ts(dupReg), 'wechat', dupStats));
      const ots = ts(ot);
      sink.add('orders', `${ws},${did}-1,${did},${ots},${money(pr.price * 100)},0.00,,paid,,wechat_mini_program,{},${ots},${ots}`);
      sink.add('order_lines', `${ws},${did}-1,1,${pr.id},${q(pr.category)},1,${money(pr.price * 100)}`);
      sink.add('demo_truth', truth(did, 'duplicate'));
    }
  }
  sink.finish();
  return { from, to, chunks: sink.chunks, rows: sink.rows };
}

/** How many products in a price-sorted list cost at most max. */
function upperPrice(list: readonly Product[], max: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.price <= max) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
