// A direct load of orders (fast.ts copyDirect) tallies each customer's order
// figures in Node as the plain records stream by — on Node's thread, while
// the store's backend is busy with the COPY — so that the store does not
// aggregate the million rows it has just written (about 1 s of backend CPU per
// million orders, all of it on the import's one serial backend). The figures
// are those of orderFigures (customers.stats.ts) over the file's rows:
// first and last paid order, paid orders, paid spend.
//
// They equal SQL's only where Node can be exact, so the tally gives up (the
// aggregate in SQL then runs, as before) rather than guess:
// - amounts: a plain amount (at most 11 digits before the point, 6 after) is
//   rounded to cents as numeric(14, 2) rounds it (half away from zero), and
//   a customer's spend is summed in whole cents; a sum past 2^53 gives up;
// - times: a plain time is compared by its wall-clock reading. That orders
//   instants as the store does only where the workspace's time zone keeps one
//   UTC offset: figuresFromTally asks the store whether it did over the file's
//   range of times, and uses the tally only then (a daylight-saving change or
//   a change of offset in the range: the aggregate in SQL);
// - more customers than MAX_CUSTOMERS: the memory is not worth it.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Session } from '../../db/store.ts';
import { copySharing } from './fast.ts';

/** Customers a tally keeps at most (about 70 bytes each and their ids). */
const MAX_CUSTOMERS = 1_000_000;
/** The widest range of order times whose UTC offsets are checked (hour by hour). */
const MAX_RANGE_SECONDS = 30 * 366 * 86400;

export class FigureTally {
  /** Open addressing over the customers' ids: slot -> customer number + 1 (0: empty). */
  #slots = new Int32Array(1 << 17);
  #n = 0;
  /** Each customer's id bytes, one after another (#at, #len: where). */
  #arena = Buffer.allocUnsafe(1 << 20);
  #used = 0;
  #at = new Int32Array(1 << 16);
  #len = new Int32Array(1 << 16);
  #hash = new Int32Array(1 << 16);
  #first = new Float64Array(1 << 16);
  #last = new Float64Array(1 << 16);
  #spend = new Float64Array(1 << 16);
  #orders = new Int32Array(1 << 16);
  /** Why the tally cannot be used (null: it can). */
  failed: string | null = null;
  /** Wall-clock seconds of the file's earliest and latest order (for the offset check). */
  minTime = Number.POSITIVE_INFINITY;
  maxTime = Number.NEGATIVE_INFINITY;

  /** Customers tallied. */
  get size(): number {
    return this.#n;
  }

  /**
   * One plain order: the customer id's bytes [ca, cb) of buf, its time [ta, tb)
   * (YYYY-MM-DD[ HH:MM[:SS]]), amount [aa, ab) (plain digits), and whether it is paid.
   */
  add(buf: Buffer, ca: number, cb: number, ta: number, tb: number, aa: number, ab: number, paid: boolean): void {
    if (this.failed !== null) return;
    const k = this.#customer(buf, ca, cb);
    if (k < 0) return;
    const t = wallSeconds(buf, ta, tb);
    if (t < this.minTime) this.minTime = t;
    if (t > this.maxTime) this.maxTime = t;
    if (!paid) return;
    this.#orders[k]!++;
    if (t < this.#first[k]!) this.#first[k] = t;
    if (t > this.#last[k]!) this.#last[k] = t;
    const spend = this.#spend[k]! + cents(buf, aa, ab);
    if (Number.isSafeInteger(spend)) this.#spend[k] = spend;
    else this.#fail('a spend past 2^53 cents');
  }

  /** The number of the customer whose id is the bytes [a, b) (compared byte by byte: no two ids share one), added when new; -1: given up. */
  #customer(buf: Buffer, a: number, b: number): number {
    // FNV-1a: ids are a few bytes; a byte loop is cheaper than making a string of them for a Map.
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    const slots = this.#slots;
    const mask = slots.length - 1;
    const len = b - a;
    const arena = this.#arena;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s]!;
      if (e === 0) break;
      const k = e - 1;
      if (this.#hash[k] !== h || this.#len[k] !== len) continue;
      const at = this.#at[k]!;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (arena[at + i] !== buf[a + i]) {
          same = false;
          break;
        }
      }
      if (same) return k;
    }
    const k = this.#n;
    if (k >= MAX_CUSTOMERS) {
      this.#fail('too many customers');
      return -1;
    }
    if (k === this.#first.length) this.#grow();
    if (this.#used + len > this.#arena.length) {
      const more = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#used + len));
      this.#arena.copy(more, 0, 0, this.#used);
      this.#arena = more;
    }
    for (let i = 0; i < len; i++) this.#arena[this.#used + i] = buf[a + i]!;
    this.#at[k] = this.#used;
    this.#len[k] = len;
    this.#hash[k] = h;
    this.#used += len;
    this.#first[k] = Number.POSITIVE_INFINITY;
    this.#last[k] = Number.NEGATIVE_INFINITY;
    this.#spend[k] = 0;
    this.#orders[k] = 0;
    this.#n = k + 1;
    if (this.#n * 2 > slots.length) this.#rehash();
    else {
      let s = h & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = k + 1;
    }
    return k;
  }

  /** Twice the slots (kept at most half full), every customer placed again. */
  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let k = 0; k < this.#n; k++) {
      let s = this.#hash[k]! & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = k + 1;
    }
    this.#slots = slots;
  }

  #fail(why: string): void {
    this.failed = why;
    // The memory goes at once: the aggregate in SQL takes over.
    this.#slots = new Int32Array(0);
    this.#arena = Buffer.alloc(0);
    this.#first = this.#last = this.#spend = new Float64Array(0);
    this.#at = this.#len = this.#hash = this.#orders = new Int32Array(0);
  }

  #grow(): void {
    const n = this.#first.length * 2;
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.#first = f64(this.#first);
    this.#last = f64(this.#last);
    this.#spend = f64(this.#spend);
    this.#at = i32(this.#at);
    this.#len = i32(this.#len);
    this.#hash = i32(this.#hash);
    this.#orders = i32(this.#orders);
  }

  /**
   * The figures as COPY input (customer_id, first_order_at, last_order_at, orders, spend), a
   * few thousand rows a piece; each line between `prefix` and `suffix` when given, and in
   * the ids' byte order when `sorted` (else in the order the file first named them).
   */
  *lines(o: { prefix?: string; suffix?: string; sorted?: boolean } = {}): Iterable<Buffer> {
    const per = 8192;
    const prefix = o.prefix ?? '';
    const suffix = o.suffix ?? '';
    const order = o.sorted ? this.#idOrder() : null;
    for (let k0 = 0; k0 < this.#n; k0 += per) {
      const k1 = Math.min(this.#n, k0 + per);
      let idBytes = 0;
      for (let j = k0; j < k1; j++) idBytes += this.#len[order ? order[j]! : j]!;
      // The ids' bytes, then at most 2 × 19 + 2 × 16 + 5 bytes of figures a line.
      let out = Buffer.allocUnsafe((k1 - k0) * (100 + prefix.length + suffix.length) + idBytes);
      let w = 0;
      for (let j = k0; j < k1; j++) {
        const k = order ? order[j]! : j;
        const at = this.#at[k]!;
        if (prefix) w += out.write(prefix, w, 'latin1');
        w += this.#arena.copy(out, w, at, at + this.#len[k]!);
        const paid = this.#orders[k]! > 0;
        const spend = this.#spend[k]!;
        const tail = `,${paid ? wallText(this.#first[k]!) : ''},${paid ? wallText(this.#last[k]!) : ''},${this.#orders[k]},${Math.floor(spend / 100)}.${String(spend % 100).padStart(2, '0')}${suffix}\n`;
        w += out.write(tail, w, 'latin1');
      }
      out = out.subarray(0, w);
      yield out;
    }
  }

  /**
   * The customers' numbers in their ids' byte order (COLLATE "C"): each id read as latin1,
   * one character a byte, so that string order is byte order.
   */
  #idOrder(): Int32Array {
    const ids = new Array<string>(this.#n);
    for (let k = 0; k < this.#n; k++) ids[k] = this.#arena.toString('latin1', this.#at[k]!, this.#at[k]! + this.#len[k]!);
    const order = new Int32Array(this.#n);
    for (let k = 0; k < this.#n; k++) order[k] = k;
    return order.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  }
}

const num = (buf: Buffer, a: number, n: number) => {
  let v = 0;
  for (let i = a; i < a + n; i++) v = v * 10 + buf[i]! - 0x30;
  return v;
};

/** A plain time (fast.ts plainCell) as seconds of its wall-clock reading, counted as if UTC. */
function wallSeconds(buf: Buffer, a: number, b: number): number {
  const len = b - a;
  const h = len >= 16 ? num(buf, a + 11, 2) : 0;
  const mi = len >= 16 ? num(buf, a + 14, 2) : 0;
  const s = len === 19 ? num(buf, a + 17, 2) : 0;
  return Date.UTC(num(buf, a, 4), num(buf, a + 5, 2) - 1, num(buf, a + 8, 2), h, mi, s) / 1000;
}

const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DAYS = new Map<number, string>();

/** Seconds from wallSeconds back to a wall-clock reading the store reads in the session's time zone. */
function wallText(t: number): string {
  const day = Math.floor(t / 86400);
  let date = DAYS.get(day);
  if (date === undefined) {
    date = new Date(day * 86400_000).toISOString().slice(0, 10);
    if (DAYS.size < 100_000) DAYS.set(day, date);
  }
  const s = t - day * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${date} ${TWO[h]}:${TWO[m]}:${TWO[s % 60]}`;
}

/** A plain amount in cents, rounded as numeric(14, 2) rounds (half away from zero; amounts are not negative). */
function cents(buf: Buffer, a: number, b: number): number {
  let i = a;
  let whole = 0;
  while (i < b && buf[i] !== 0x2e) whole = whole * 10 + buf[i++]! - 0x30;
  let c = whole * 100;
  if (i < b) {
    const d = (j: number) => (i + j < b ? buf[i + j]! - 0x30 : 0);
    c += d(1) * 10 + d(2) + (d(3) >= 5 ? 1 : 0);
  }
  return c;
}

/**
 * FIGURES (see import.repository.ts) from the tally, when it can be used: the
 * tally's rows, merged with the figures of `extra` orders (a from-item of
 * order ids: rows the direct load left for Node and inserted afterwards).
 * False: not usable (the caller aggregates in SQL).
 */
export async function figuresFromTally(
  s: Session,
  tally: FigureTally,
  o: { table: string; extraOrders: string | null; orderFigures: (filter: RawBuilder<unknown>) => RawBuilder<unknown> },
): Promise<boolean> {
  if (!(await tallyUsable(s.db, tally))) return false;
  const tallied = o.extraOrders ? 'liuke_import_tallied' : o.table;
  await sql
    .raw(`create temporary table ${tallied} (customer_id text collate "C", first_order_at timestamptz, last_order_at timestamptz, orders bigint, spend numeric) on commit drop`)
    .execute(s.db);
  await s.copyCsv(tallied, ['customer_id', 'first_order_at', 'last_order_at', 'orders', 'spend'], tally.lines());
  if (o.extraOrders) {
    const extra = o.orderFigures(sql`and o.id in (select x.id from ${sql.raw(o.extraOrders)} x)`);
    await sql`create temporary table ${sql.raw(o.table)} on commit drop as
      select customer_id, min(first_order_at) as first_order_at, max(last_order_at) as last_order_at,
             sum(orders)::bigint as orders, sum(spend) as spend
      from (select * from ${sql.raw(tallied)} union all ${extra}) x
      group by customer_id`.execute(s.db);
  }
  return true;
}

/** Whether the tally's figures are SQL's (see the head of this file): not given up, and one UTC offset over its times. */
export async function tallyUsable(db: Kysely<Database>, tally: FigureTally): Promise<boolean> {
  return tally.failed === null && tally.size > 0 && (await oneOffset(db, tally.minTime, tally.maxTime));
}

/**
 * A stub customer for every customer tallied, with its figures (customers.stats_*), in
 * one COPY straight into customers, in id order: for a first orders file into a
 * workspace without customers, all of whose customers are therefore new. Instead of the
 * tally into a table, the new ids found by an anti-join, and an insert joining the two
 * (0.6 s of the import's one backend for 200k customers). The caller holds customers for
 * a bulk load, checked the workspace has none, and knows the tally usable. Returns how many.
 */
export async function stubsFromTally(s: Session, tally: FigureTally, workspaceId: number, now: Date): Promise<number> {
  const at = now.toISOString();
  const shared = [
    { name: 'is_stub', text: 'true' },
    { name: 'created_at', text: at },
    { name: 'updated_at', text: at },
  ];
  const columns = ['workspace_id', 'id', 'stats_first_order_at', 'stats_last_order_at', 'stats_orders', 'stats_spend'];
  return copySharing(s, 'customers', columns, shared, tally.lines({ prefix: `${workspaceId},`, sorted: true }));
}

/**
 * Whether the session's time zone keeps one UTC offset from a day before the
 * wall-clock time `from` to a day after `to` (looked at hour by hour): then
 * wall-clock order is the order of instants.
 */
async function oneOffset(db: Kysely<Database>, from: number, to: number): Promise<boolean> {
  if (!(to - from <= MAX_RANGE_SECONDS)) return false;
  const r = await sql<{ n: number }>`
    select count(distinct extract(timezone from g))::integer as n
    from generate_series(${wallText(from)}::timestamptz - interval '1 day', ${wallText(to)}::timestamptz + interval '1 day', interval '1 hour') g`.execute(db);
  return r.rows[0]?.n === 1;
}
