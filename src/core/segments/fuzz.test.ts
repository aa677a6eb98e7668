// Random and hostile rules: they either fail validation with our own errors
// or run without a database error, inside a statement timeout, and never see
// another workspace's rows. Deterministic (seeded), on both stores.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { prng } from '../analytics/testing.ts';
import { forEachStore } from '../../db/testing.ts';
import { LIMITS, type Rule } from './ast.ts';
import { type CompileOptions, matchingCustomersSql } from './compile.ts';
import { FIELDS, SOURCE_DEFS } from './fields.ts';
import { setStatementTimeout } from './segments.repository.ts';
import { compileContext } from './segments.service.ts';
import { ago, ensureWorkspace, NOW, Seeder, seedExamples } from './testing.ts';
import { checkRule, mustRule } from './validate.ts';

const HOSTILE_STRINGS = [
  "'; drop table customers; --",
  '" or 1=1 --',
  "tier') or ('1'='1",
  '$1',
  '\\',
  "\\'",
  '%_%',
  '\u0000',
  'NUL\u0000inside',
  '🙂 emoji and 中文 and עברית',
  '\ud800',
  'a'.repeat(250),
  '',
  ' ',
  '1e999',
  'NaN',
  '2024-02-30',
  '2025-06-01',
  'null',
  'A',
  'D',
  'at_risk',
  'product_view',
  'p1',
  '物流',
];
const HOSTILE_NAMES = [
  'tier; drop table customers',
  'c.id',
  'm.tier',
  '1=1',
  'attribute.x"); drop table segments; --',
  'attribute.',
  'attribute.vip',
  'attribute.course_completion',
  'attribute.会员',
  'consent.sms.marketing',
  'consent.sms',
  'consent.a.b.c',
  'property.product_id',
  'pg_sleep(10)',
  '__proto__',
  'constructor',
  'tierr',
  '',
];
const NUMBERS = [0, 1, -1, 3, 60, 0.5, 10_000, 1e12, 1e13, -1e15, 1e308, Number.MAX_SAFE_INTEGER, Number.NaN, Number.POSITIVE_INFINITY, 730, 731, -7, 2.5];

function fuzzRules(seed: number, n: number): unknown[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const fieldNames = [...FIELDS.keys()];
  const scalar = (): unknown => {
    const r = rnd();
    if (r < 0.35) return pick(HOSTILE_STRINGS);
    if (r < 0.7) return pick(NUMBERS);
    if (r < 0.8) return rnd() < 0.5;
    if (r < 0.85) return null;
    if (r < 0.9) return { nested: pick(HOSTILE_STRINGS) };
    return [];
  };
  const value = (): unknown => (rnd() < 0.2 ? Array.from({ length: Math.floor(rnd() * 4) }, scalar) : scalar());
  const window = (): unknown => {
    const r = rnd();
    if (r < 0.6) return { last_days: pick([1, 7, 30, 90, 365, 730, 731, 0, -5, 1.5, 1e9, Number.NaN]) };
    if (r < 0.8) return { this: pick(['month', 'year', "month'; --"]) };
    return pick([undefined, null, 'last 7 days', {}]);
  };
  const operand = (depth: number): unknown => {
    const r = rnd();
    if (r < 0.45) return { field: rnd() < 0.7 ? pick(fieldNames) : pick(HOSTILE_NAMES) };
    if (r < 0.85) {
      const of = pick(['orders', 'events', 'tickets', 'users', "orders'--"]);
      const src = SOURCE_DEFS[of as keyof typeof SOURCE_DEFS];
      const filters = Array.from({ length: Math.floor(rnd() * 3) }, () => ({
        field: src && rnd() < 0.7 ? pick([...src.filters.keys()]) : pick(HOSTILE_NAMES),
        op: pick(['=', '!=', '>', 'in', 'not_in', 'like', '; --']),
        value: value(),
      }));
      const agg = pick(['count', 'sum', 'avg', 'max', 'min', 'pg_sleep', 'count(*) from users --']);
      return {
        agg,
        of,
        ...(rnd() < 0.5 ? { measure: pick(['amount', 'discount', 'csat', 'property.price', 'property.x; drop', 'o.amount']) } : {}),
        ...(filters.length ? { where: filters } : {}),
        window: window(),
      };
    }
    if (depth < 2) return { ratio: [operand(depth + 1), operand(depth + 1)] };
    return pick([null, 'tier', 42, {}]);
  };
  const rule = (depth: number): unknown => {
    const r = rnd();
    if (depth < 12 && r < 0.15) return { and: Array.from({ length: Math.floor(rnd() * 4) }, () => rule(depth + 1)) };
    if (depth < 12 && r < 0.28) return { or: Array.from({ length: Math.floor(rnd() * 4) }, () => rule(depth + 1)) };
    if (depth < 12 && r < 0.36) return { not: rule(depth + 1) };
    if (depth < 12 && r < 0.42) return { any_product: rule(depth + 1) };
    if (r < 0.44) return pick([null, [], 'tier = "A"', 7, { and: 'x' }]);
    const op = pick(['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in', 'is_empty', 'is_not_empty', 'within_next_days', 'within_last_days', 'like']);
    return { left: operand(0), op, ...(rnd() < 0.9 ? { value: value() } : {}) };
  };
  // well-typed rules whose values are hostile: injection text where text is allowed,
  // extreme numbers, unicode; these must validate and run
  const fieldsByType = (t: string) => [...FIELDS.values()].filter((f) => f.type === t && !f.values);
  const saneValue = (t: string): unknown =>
    t === 'number' ? pick([0, 1, 3, 60, 0.5, -1e12, 1e12, 12345.678]) : t === 'boolean' ? rnd() < 0.5 : pick(HOSTILE_STRINGS.filter((x) => !x.includes('\u0000') && x.length <= 200));
  const saneCond = (inProduct: boolean): unknown => {
    const r = rnd();
    if (r < 0.25) {
      const f = pick(fieldsByType('string'));
      return rnd() < 0.5 ? { left: { field: f.name }, op: pick(['=', '!=']), value: saneValue('string') } : { left: { field: f.name }, op: pick(['in', 'not_in']), value: [saneValue('string'), saneValue('string')] };
    }
    if (r < 0.4) return { left: { field: pick(fieldsByType('number')).name }, op: pick(['=', '!=', '>', '>=', '<', '<=']), value: saneValue('number') };
    if (r < 0.5) {
      const t = pick(['number', 'string', 'boolean']);
      return { left: { field: `attribute.${pick(['vip', 'course_completion', '会员', 'x-y'])}`, type: t }, op: t === 'string' ? '=' : '=', value: saneValue(t) };
    }
    if (r < 0.55) return { left: { field: pick(['birthday', 'registered_at', 'last_order_at']) }, op: pick(['within_next_days', 'within_last_days']), value: pick([0, 7, 730]) };
    const of = pick(inProduct ? ['orders', 'events'] : ['orders', 'events', 'tickets']) as keyof typeof SOURCE_DEFS;
    const src = SOURCE_DEFS[of];
    const where = Array.from({ length: Math.floor(rnd() * 3) }, () => {
      if (src.properties && rnd() < 0.4) return { field: 'property.product_id', op: '=', value: saneValue('string') };
      const f = pick([...src.filters.values()]);
      if (f.values) return { field: f.name, op: 'in', value: [pick(f.values)] };
      return { field: f.name, op: f.type === 'string' ? pick(['=', '!=', 'not_in']) : '=', value: f.type === 'string' ? (rnd() < 0.5 ? saneValue('string') : [saneValue('string')]) : saneValue(f.type) };
    }).map((f) => (f.op === 'not_in' && !Array.isArray(f.value) ? { ...f, value: [f.value] } : f));
    const measures = Object.keys(src.measures);
    const agg = measures.length && rnd() < 0.4 ? { agg: pick(['sum', 'avg', 'max', 'min']), measure: pick(measures) } : { agg: 'count' };
    const a = { ...agg, of, ...(where.length ? { where } : {}), window: rnd() < 0.8 ? { last_days: pick([1, 7, 30, 730]) } : { this: 'month' } };
    const left = rnd() < 0.2 ? { ratio: [a, { agg: 'count', of, window: { last_days: 730 } }] } : a;
    return { left, op: pick(['=', '>', '<', '>=', '!=']), value: saneValue('number') };
  };
  const saneRule = (depth: number, inProduct: boolean): unknown => {
    const r = rnd();
    if (depth < 4 && r < 0.2) return { and: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => saneRule(depth + 1, inProduct)) };
    if (depth < 4 && r < 0.35) return { or: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => saneRule(depth + 1, inProduct)) };
    if (depth < 4 && r < 0.45) return { not: saneRule(depth + 1, inProduct) };
    if (depth < 4 && r < 0.5 && !inProduct) return { any_product: saneRule(depth + 1, true) };
    return saneCond(inProduct);
  };
  return Array.from({ length: n }, () => (rnd() < 0.5 ? saneRule(0, false) : rule(0)));
}

const TEXTS = [
  'tier = "D" and (orders.count(last 90 days) >= 3 or events.count(type = "login", last 7 days) = 0) and not attribute.vip = true',
  'any product (events.count(type = "product_view", last 7 days) > 3 and orders.count(last 7 days) = 0)',
  'coupon_share > 50% or orders.sum(amount, this month) > 10000',
  'birthday within next 7 days and lifecycle_stage in ("at_risk", "dormant")',
  'tickets.count(kind = "complaint", category in ("logistics", "物流"), last 30 days) > 0',
  'events.count(type = "course_lesson_completed", last 365 days) / events.count(type = "course_lesson_started", last 365 days) < 60%',
];
const INSERTS = ['"', "'", '(', ')', ' and ', ' or ', ' not ', '; drop table customers; --', '\u0000', '9'.repeat(40), '%', '.', ',', '/', ' in ()', '🙂', '\n', 'last 100000 days', '\\'];

function mutatedTexts(seed: number, n: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let t = TEXTS[Math.floor(rnd() * TEXTS.length)]!;
    const edits = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rnd() * (t.length + 1));
      const r = rnd();
      if (r < 0.4) t = t.slice(0, at) + INSERTS[Math.floor(rnd() * INSERTS.length)]! + t.slice(at);
      else if (r < 0.7) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 5));
      else t = t.slice(0, at) + String.fromCharCode(32 + Math.floor(rnd() * 95)) + t.slice(at + 1);
    }
    out.push(t);
  }
  // deep nesting, in both forms
  out.push(`${'not ('.repeat(50)}tier = "A"${')'.repeat(50)}`);
  out.push(`${'('.repeat(2000)}tier = "A"${')'.repeat(2000)}`);
  return out;
}

function deepJson(levels: number): unknown {
  let r: unknown = { left: { field: 'tier' }, op: '=', value: 'A' };
  for (let i = 0; i < levels; i++) r = i % 2 ? { not: r } : { and: [r, { left: { field: 'orders_total' }, op: '>', value: i }] };
  return r;
}

forEachStore('segment rule fuzzing', (get) => {
  const inputs: unknown[] = [...fuzzRules(20250615, 400), ...mutatedTexts(7, 300), deepJson(30), deepJson(5000), { and: Array.from({ length: 500 }, () => ({ left: { field: 'tier' }, op: '=', value: 'A' })) }];
  const valid: { input: unknown; rule: Rule }[] = [];
  const before1 = new Map<number, string[]>();

  before(async () => {
    await seedExamples(get().db, 1);
    // an order with two lines of one product counts once for that product
    await new Seeder(get().db, 1).order('v2', ago(2), 700, { products: ['p1', 'p1', 'p2'] });
  });

  async function run(rule: Rule, opts: CompileOptions = {}): Promise<string[]> {
    const { db } = get();
    const ctx = await compileContext(db, 1, NOW);
    return db.transaction().execute(async (trx) => {
      await setStatementTimeout(trx, 20_000);
      const r = await matchingCustomersSql(rule, ctx, opts).execute(trx);
      return r.rows.map((x) => x.id).sort();
    });
  }

  it('every input is either a validation error with a path and a message, or a bounded rule', () => {
    let errors = 0;
    for (const input of inputs) {
      const r = checkRule(input);
      if (!r.ok) {
        errors++;
        assert.ok(r.errors.length > 0);
        for (const e of r.errors) {
          assert.equal(typeof e.message, 'string');
          assert.ok(e.message.length > 0);
          assert.match(e.path, /^\$/);
        }
        continue;
      }
      assert.ok(r.value.conditions <= LIMITS.maxConditions);
      assert.ok(r.value.depth <= LIMITS.maxDepth);
      const windows = JSON.stringify(r.value.rule).match(/"last_days":(-?[\d.e+]+)/g) ?? [];
      for (const w of windows) assert.ok(Number(w.split(':')[1]) <= LIMITS.maxDays && Number(w.split(':')[1]) >= 1);
      valid.push({ input, rule: r.value.rule });
    }
    // the generator aims at both sides of the line
    assert.ok(errors > 100, `errors: ${errors}`);
    assert.ok(valid.length > 50, `valid: ${valid.length}`);
    // injection text is a legitimate value of a text field: it must validate, then run as data
    assert.ok(valid.some((v) => JSON.stringify(v.rule).includes('drop table customers')));
    assert.ok(valid.some((v) => JSON.stringify(v.rule).includes('any_product')));
  });

  it('valid rules run without a database error and return only this workspace’s customers', async () => {
    const { db } = get();
    const mine = new Set((await db.selectFrom('customers').select('id').where('workspace_id', '=', 1).execute()).map((r) => r.id));
    for (const [i, v] of valid.entries()) {
      let ids: string[];
      try {
        ids = await run(v.rule);
      } catch (e) {
        assert.fail(`rule ${JSON.stringify(v.input)} raised a database error: ${(e as Error).message}`);
      }
      for (const id of ids) assert.ok(mine.has(id), `${id} is not a workspace-1 customer`);
      before1.set(i, ids);
    }
  });

  it('aggregates computed in grouped passes match them computed per customer', async () => {
    let compared = 0;
    for (const [i, v] of valid.entries()) {
      const text = JSON.stringify(v.rule);
      if (!text.includes('"agg"')) continue;
      const ids = before1.get(i)!;
      assert.deepEqual(await run(v.rule, { correlated: true }), ids, `rule ${text}: grouped and correlated answers differ`);
      // a comparison is telling when the rule picks some customers but not all of them
      if (ids.length > 0 && ids.length < 20) compared++;
    }
    assert.ok(compared >= 20, `only ${compared} aggregate rules matched some but not all customers`);
    // per product: an order counts once however many lines of the product it has (v2's
    // order of 700 has p1 twice: counted twice, the sum would pass 1000)
    let matched = 0;
    for (const text of [
      'any product (orders.count(last 7 days) = 1)',
      'any product (orders.sum(amount, last 7 days) > 1000)',
      'any product (orders.count(last 7 days) >= 1 and events.count(type = "product_view", last 7 days) = 0)',
      'any product (events.count(type = "product_view", last 7 days) > 3 and orders.count(last 7 days) = 0)',
    ]) {
      const { rule } = mustRule(text);
      const ids = await run(rule);
      assert.deepEqual(ids, await run(rule, { correlated: true }), text);
      if (ids.length > 0) matched++;
    }
    assert.ok(matched >= 3, `only ${matched} of the per-product rules match anyone`);
  });

  it('a second workspace with the same ids and different data changes no answer', async () => {
    const { db } = get();
    await ensureWorkspace(db, 2);
    await seedExamples(db, 2);
    const s = new Seeder(db, 2);
    for (const c of ['v1', 'v2', 'v3', 'm1', 'm2', 't1', 'a1', 'b1', 'k1', 'e1', 'e2', 's1']) {
      await s.events(c, 'product_view', [ago(1), ago(2), ago(3), ago(4), ago(5)], { product_id: 'p1', price: 9 });
      await s.events(c, 'login', [ago(1)]);
      await s.order(c, ago(1), 20_000, { products: ['p1'], coupon: 'X', category: 'tea' });
      await s.ticket(c, ago(2), 'complaint', 'logistics');
    }
    await db.updateTable('customer_metrics').set({ tier: 'A', lifecycle_stage: 'new', orders_window: 9, coupon_orders_window: 9, spend_total: 1e6 }).where('workspace_id', '=', 2).execute();
    await db.updateTable('customers').set({ birthday: '1990-06-16', city: '上海', attributes: '{"vip": true, "course_completion": 1}' }).where('workspace_id', '=', 2).execute();
    for (const [i, v] of valid.entries()) {
      assert.deepEqual(await run(v.rule), before1.get(i), `rule ${JSON.stringify(v.input)} changed with another workspace's data`);
    }
  });

  it('the store is still healthy afterwards', async () => {
    const n = await get().db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', 1).executeTakeFirst();
    assert.ok(Number(n?.n) > 20);
  });
});
