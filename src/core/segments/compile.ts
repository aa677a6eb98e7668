// A validated rule to one SQL condition over customers c (left-joined to
// customer_metrics m), plus the joins that condition reads. Every identifier
// and operator comes from fields.ts or the fixed fragments below; every value
// of the rule is a bound parameter. Every subquery is scoped to the workspace,
// and every aggregate to a bounded time window ending at the run's `now`.
//
// Aggregates are computed set-based (docs/rules.md): the aggregates of one
// source and window length become columns (`count(*) filter (where …)`) of one
// grouped pass over that window, left-joined by customer. A correlated subquery
// per customer read each customer's index range once per aggregate: a million
// index descents for a rule over a million customers (weekend_active 10.5 s at
// 1M customers, and every preview of such a rule ran into its 10 s limit).
// "Any product" is tested on the (customer, product) pairs of its window, with
// its aggregates grouped per pair the same way. The correlated form of
// everything is kept (`correlated: true`) so that tests can check that both
// forms give the same answer.
import { type RawBuilder, sql } from 'kysely';
import {
  type AggOperand,
  type Condition,
  type Filter,
  isAgg,
  isAnd,
  isAnyProduct,
  isNot,
  isOr,
  isRatio,
  type Operand,
  type Rule,
  type Scalar,
  type Window,
} from './ast.ts';
import { ATTRIBUTE_PREFIX, CONSENT_PREFIX, FIELDS, type FieldType, PROPERTY_PREFIX, SOURCE_DEFS } from './fields.ts';

export interface CompileContext {
  workspaceId: number;
  now: Date;
  /** The workspace's IANA time zone: "this month", weekends and birthdays are local. */
  timeZone: string;
}

export interface CompileOptions {
  /** One correlated subquery per aggregate and customer, no grouped joins (the reference form tests compare with). */
  correlated?: boolean;
}

/** A compiled rule: the condition over c and m, and the left joins it reads (empty when it reads none). */
interface CompiledRule {
  where: RawBuilder<boolean>;
  joins: RawBuilder<unknown>;
}

/** The aggregates of one source and window length in one grouped pass: their columns and row conditions. */
interface Group {
  source: AggOperand['of'];
  days: number;
  columns: Sql[];
  conds: Sql[];
}

type Sql = RawBuilder<unknown>;

const CMP: Record<string, Sql> = {
  '=': sql.raw('='),
  '!=': sql.raw('<>'),
  '>': sql.raw('>'),
  '>=': sql.raw('>='),
  '<': sql.raw('<'),
  '<=': sql.raw('<='),
};

const AGG_SQL: Record<string, string> = { avg: 'avg', max: 'max', min: 'min' };

const NUMERIC_TEXT = String.raw`^\s*-?[0-9]{1,15}(\.[0-9]{1,12})?\s*$`;

class Compiler {
  readonly ctx: CompileContext;
  readonly t: Sql;
  readonly correlated: boolean;
  /** The product id column while compiling inside "any product". */
  product: Sql | null = null;
  /**
   * Grouped aggregates by source and window length (see the head of this file). One pass
   * per length, not one over the widest: a year of events is a scan of the whole table,
   * while 30 days are a range of the time index.
   */
  readonly groups = new Map<string, Group>();
  /** The joins of "any product" nodes, one each. */
  readonly guards: Sql[] = [];
  /** While compiling inside "any product" (set-based): that node's number, its grouped passes and window. */
  productGroups: { k: number; groups: Map<AggOperand['of'], Group>; days: number } | null = null;

  constructor(ctx: CompileContext, opts: CompileOptions = {}) {
    this.ctx = ctx;
    this.t = sql`${ctx.now}::timestamptz`;
    this.correlated = opts.correlated === true;
  }

  get ws(): Sql {
    return sql`${this.ctx.workspaceId}::int`;
  }

  /** A whitelist fragment, its `$ws` bound to the workspace id. */
  fixed(fragment: string): Sql {
    return sql.join(fragment.split('$ws').map((part) => sql.raw(part)), this.ws);
  }

  value(type: FieldType | 'number' | 'string' | 'boolean', v: Scalar): Sql {
    if (type === 'number') return sql`${v}::numeric`;
    if (type === 'boolean') return sql`${v}::boolean`;
    if (type === 'date') return sql`${v}::date`;
    if (type === 'datetime') return sql`${v}::timestamptz`;
    return sql`${v}::text`;
  }

  list(type: string, vs: Scalar[]): Sql {
    if (type === 'number') return sql`${vs.map(Number)}::numeric[]`;
    return sql`${vs.map(String)}::text[]`;
  }

  rule(r: Rule): Sql {
    if (isAnd(r)) return sql`(${sql.join(r.and.map((x) => this.rule(x)), sql` and `)})`;
    if (isOr(r)) return sql`(${sql.join(r.or.map((x) => this.rule(x)), sql` or `)})`;
    if (isNot(r)) return sql`(not ${this.rule(r.not)})`;
    if (isAnyProduct(r)) return this.anyProduct(r.any_product);
    // every leaf is true or false, never null, so "not" is plain negation
    return sql`coalesce(${this.condition(r)}, false)`;
  }

  /** Exists a product the customer viewed or bought in the widest window used inside, for which the inner rule holds. */
  anyProduct(inner: Rule): Sql {
    const days = Math.max(1, ...windowsOf(inner).map((w) => ('this' in w ? 31 : w.last_days)));
    const from = sql`${this.t} - make_interval(days => ${days}::int)`;
    const saved = this.product;
    this.product = sql.raw('p.product_id');
    if (this.correlated) {
      const cond = this.rule(inner);
      this.product = saved;
      return this.productExists(from, cond);
    }
    // Set-based: the events and the orders of the window grouped by (customer, product),
    // the inner rule's aggregates as their columns (productAgg), full-joined so that a
    // product only viewed or only bought is there too; the inner rule is tested on each
    // pair with its own c and m, and the customers with some pair that passes are joined
    // in. Per customer, the exists cost two index descents and a union for every customer
    // with any activity in the window, then descents per product and aggregate.
    const k = this.guards.length;
    this.guards.push(sql``);
    const groups = new Map<AggOperand['of'], Group>();
    this.productGroups = { k, groups, days };
    const cond = this.rule(inner);
    this.productGroups = null;
    this.product = saved;
    const cols = (source: AggOperand['of']) => {
      const g = groups.get(source);
      return g ? sql`, ${sql.join(g.columns)}` : sql``;
    };
    const pe = sql.raw(`pg${k}_events`);
    const po = sql.raw(`pg${k}_orders`);
    const alias = sql.raw(`p_${k}`);
    this.guards[k] = sql`left join (
      select distinct c.id as customer_id from (
        select e.customer_id, e.properties->>'product_id' as product_id ${cols('events')}
        from events e
        where e.workspace_id = ${this.ws} and e.occurred_at > ${from} and e.occurred_at <= ${this.t}
          and e.properties->>'product_id' is not null
        group by e.customer_id, e.properties->>'product_id'
      ) ${pe}
      full join (
        select o.customer_id, l.product_id ${cols('orders')}
        from orders o
        -- each product once per order, as "an order with a line of the product" counts it;
        -- lateral with distinct: looked up by order, never a pass over all order lines
        cross join lateral (select distinct pl.product_id from order_lines pl
                            where pl.workspace_id = o.workspace_id and pl.order_id = o.id and pl.product_id is not null) l
        where o.workspace_id = ${this.ws} and o.ordered_at > ${from} and o.ordered_at <= ${this.t}
        group by o.customer_id, l.product_id
      ) ${po} on ${po}.customer_id = ${pe}.customer_id and ${po}.product_id = ${pe}.product_id
      join customers c on c.workspace_id = ${this.ws} and c.id = coalesce(${pe}.customer_id, ${po}.customer_id)
      left join customer_metrics m on m.workspace_id = c.workspace_id and m.customer_id = c.id
      where ${cond}
    ) ${alias} on ${alias}.customer_id = c.id`;
    return sql`(${alias}.customer_id is not null)`;
  }

  /** An aggregate inside "any product", as a column of that node's pass grouped by (customer, product). */
  productAgg(o: AggOperand): Sql {
    const { k, groups } = this.productGroups!;
    let g = groups.get(o.of);
    if (!g) {
      g = { source: o.of, days: this.productGroups!.days, columns: [], conds: [] };
      groups.set(o.of, g);
    }
    // the product itself is the grouping: only the window and the filters are conditions here
    const saved = this.product;
    this.product = null;
    const ref = this.column(o, g, `pg${k}_${o.of}`);
    this.product = saved;
    return ref;
  }

  productExists(from: Sql, cond: Sql): Sql {
    return sql`exists (
      select 1 from (
        select pe.properties->>'product_id' as product_id from events pe
        where pe.workspace_id = ${this.ws} and pe.customer_id = c.id and ${this.span(sql`(pe.customer_id, pe.occurred_at)`, from)}
          and pe.properties->>'product_id' is not null
        union
        select pl.product_id from orders po join order_lines pl on pl.workspace_id = po.workspace_id and pl.order_id = po.id
        where po.workspace_id = ${this.ws} and po.customer_id = c.id and ${this.span(sql`(po.customer_id, po.ordered_at)`, from)}
          and pl.product_id is not null
      ) p where ${cond})`;
  }

  condition(c: Condition): Sql {
    const { expr, type, anniversary } = this.operand(c.left);
    const v = c.value;
    switch (c.op) {
      case 'is_empty':
        return type === 'string' ? sql`nullif(${expr}, '') is null` : sql`${expr} is null`;
      case 'is_not_empty':
        return type === 'string' ? sql`nullif(${expr}, '') is not null` : sql`${expr} is not null`;
      case 'in':
        return sql`${expr} = any(${this.list(type, v as Scalar[])})`;
      case 'not_in':
        // a missing value is "not in" any list
        return sql`coalesce(not (${expr} = any(${this.list(type, v as Scalar[])})), true)`;
      case 'within_next_days':
      case 'within_last_days':
        return this.within(expr, type, Boolean(anniversary), c.op === 'within_next_days', v as number);
      case '!=':
        // a missing value differs from any value
        return sql`${expr} is distinct from ${this.value(type, v as Scalar)}`;
      default:
        if (!CMP[c.op]) throw new Error(`operator ${c.op} is not in the whitelist (validate the rule first)`);
        return sql`${expr} ${CMP[c.op]!} ${this.value(type, v as Scalar)}`;
    }
  }

  within(expr: Sql, type: string, anniversary: boolean, next: boolean, n: number): Sql {
    const nDays = sql`${n}::int`;
    if (anniversary) {
      // the yearly anniversary nearest ahead (or behind) of today, in the workspace's zone;
      // adding years to 29 February lands on 28 February in other years, never an error
      const today = sql`(${this.t} at time zone ${this.ctx.timeZone})::date`;
      const years = (k: number) =>
        sql`(${expr} + make_interval(years => (extract(year from ${today}) - extract(year from ${expr}))::int + ${k}::int))::date`;
      if (next) {
        return sql`(case when ${years(0)} >= ${today} then ${years(0)} else ${years(1)} end) <= ${today} + ${nDays}`;
      }
      return sql`(case when ${years(0)} <= ${today} then ${years(0)} else ${years(-1)} end) >= ${today} - ${nDays}`;
    }
    const col = type === 'date' ? sql`${expr}::timestamptz` : expr;
    const span = sql`make_interval(days => ${nDays})`;
    return next ? sql`(${col} >= ${this.t} and ${col} <= ${this.t} + ${span})` : sql`(${col} <= ${this.t} and ${col} >= ${this.t} - ${span})`;
  }

  operand(o: Operand): { expr: Sql; type: FieldType; anniversary?: boolean } {
    if (isRatio(o)) {
      const a = this.operand(o.ratio[0]).expr;
      const b = this.operand(o.ratio[1]).expr;
      return { expr: sql`((${a})::numeric / nullif((${b})::numeric, 0))`, type: 'number' };
    }
    if (isAgg(o)) return { expr: this.agg(o), type: 'number' };
    const name = o.field;
    if (name.startsWith(ATTRIBUTE_PREFIX)) {
      const key = name.slice(ATTRIBUTE_PREFIX.length);
      const type = o.type ?? 'string';
      return { expr: jsonValue(sql`c.attributes->${key}::text`, type), type };
    }
    if (name.startsWith(CONSENT_PREFIX)) {
      const [channel, purpose] = name.slice(CONSENT_PREFIX.length).split('.');
      // consent is given only when recorded as true; anything else counts as no
      return { expr: sql`coalesce(c.consent->${channel!}::text->${purpose!}::text = 'true'::jsonb, false)`, type: 'boolean' };
    }
    const def = FIELDS.get(name);
    if (!def) throw new Error(`field ${name} is not in the whitelist (validate the rule first)`);
    return { expr: this.fixed(def.sql), type: def.type, anniversary: def.anniversary };
  }

  /**
   * The window condition of a per-customer subquery over `table` (alias.customer_id,
   * alias.time), for customer c. The bounds are row comparisons on (customer, time): only
   * the (workspace, customer, time) index can serve them, and it answers each customer with
   * one descent. With plain `time >= start` the planner could take the (workspace, time)
   * index instead and read the whole window once per customer: a "this month" rule on the
   * 2nd of the month took 25.4 s at 100k customers that way, and 0.8 s so (bench/RESULTS.md).
   */
  window(customer: string, time: string, w: Window): Sql {
    const key = sql`(${sql.raw(customer)}, ${sql.raw(time)})`;
    if ('this' in w) {
      const start = sql`(date_trunc('month', ${this.t} at time zone ${this.ctx.timeZone}) at time zone ${this.ctx.timeZone})`;
      return sql`${key} >= (c.id, ${start}) and ${key} <= (c.id, ${this.t})`;
    }
    return this.span(key, sql`${this.t} - make_interval(days => ${w.last_days}::int)`);
  }

  /** The time condition of a grouped aggregate (see window for the correlated form). */
  windowRows(time: string, w: Window): Sql {
    const col = sql.raw(time);
    if ('this' in w) {
      const start = sql`(date_trunc('month', ${this.t} at time zone ${this.ctx.timeZone}) at time zone ${this.ctx.timeZone})`;
      return sql`${col} >= ${start} and ${col} <= ${this.t}`;
    }
    return sql`${col} > ${this.t} - make_interval(days => ${w.last_days}::int) and ${col} <= ${this.t}`;
  }

  /** (customer, time) in (from, now], for customer c (see window). */
  span(key: Sql, from: Sql): Sql {
    return sql`${key} > (c.id, ${from}) and ${key} <= (c.id, ${this.t})`;
  }

  filter(source: AggOperand['of'], f: Filter): Sql {
    const src = SOURCE_DEFS[source];
    let expr: Sql;
    let type: FieldType;
    if (f.field.startsWith(PROPERTY_PREFIX)) {
      const first = Array.isArray(f.value) ? f.value[0] : f.value;
      type = typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'string';
      expr = jsonValue(sql`e.properties->${f.field.slice(PROPERTY_PREFIX.length)}::text`, type as 'number' | 'string' | 'boolean');
    } else {
      const def = src.filters.get(f.field)!;
      type = def.type;
      if (f.field === 'weekend') {
        expr = sql`(extract(isodow from ${sql.raw(def.sql)} at time zone ${this.ctx.timeZone}) >= 6)`;
      } else if (source === 'orders' && (f.field === 'category' || f.field === 'product_id')) {
        // "some line of the order": the condition is tested inside an exists over the lines
        const inner = this.comparison(sql.raw(def.sql), type, f);
        return sql`exists (select 1 from order_lines l where l.workspace_id = o.workspace_id and l.order_id = o.id and ${inner})`;
      } else expr = sql.raw(def.sql);
    }
    return this.comparison(expr, type, f);
  }

  comparison(expr: Sql, type: FieldType, f: Filter): Sql {
    if (f.op === 'in') return sql`coalesce(${expr} = any(${this.list(type, f.value as Scalar[])}), false)`;
    if (f.op === 'not_in') return sql`coalesce(not (${expr} = any(${this.list(type, f.value as Scalar[])})), true)`;
    if (f.op === '!=') return sql`${expr} is distinct from ${this.value(type, f.value as Scalar)}`;
    return sql`coalesce(${expr} ${CMP[f.op]!} ${this.value(type, f.value as Scalar)}, false)`;
  }

  agg(o: AggOperand): Sql {
    if (!this.correlated) return this.productGroups ? this.productAgg(o) : this.groupedAgg(o);
    const src = SOURCE_DEFS[o.of];
    const a = sql.raw(src.alias);
    const conds: Sql[] = [sql`${a}.workspace_id = ${this.ws}`, sql`${sql.raw(src.customer)} = c.id`, this.window(src.customer, src.time, o.window), ...this.rowConds(o)];
    const fn = o.agg === 'count' ? sql`count(*)` : o.agg === 'sum' ? sql`coalesce(sum(${this.measure(o)}), 0)` : sql`${sql.raw(AGG_SQL[o.agg]!)}(${this.measure(o)})`;
    return sql`(select ${fn} from ${sql.raw(src.table)} ${a} where ${sql.join(conds, sql` and `)})`;
  }

  /** The aggregate as a column of the grouped pass of its source and window length, read through the left join g_<source>_<days>. */
  groupedAgg(o: AggOperand): Sql {
    // a calendar month starts less than 31 days before now
    const days = 'this' in o.window ? 31 : o.window.last_days;
    const key = `${o.of}_${days}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { source: o.of, days, columns: [], conds: [] };
      this.groups.set(key, g);
    }
    const rows = this.filterOf(o);
    g.conds.push(rows);
    return this.column(o, g, `g_${key}`, rows);
  }

  /** An aggregate's rows: its window and its row conditions. */
  filterOf(o: AggOperand): Sql {
    return sql`(${sql.join([this.windowRows(SOURCE_DEFS[o.of].time, o.window), ...this.rowConds(o)], sql` and `)})`;
  }

  /**
   * Adds the aggregate as a column of g's grouped pass and returns how the rule reads it
   * through that pass's alias: no row reads as no group, so count and sum are 0 and the
   * others null, as over an empty set.
   */
  column(o: AggOperand, g: Group, alias: string, rows: Sql = this.filterOf(o)): Sql {
    const name = `a${g.columns.length}`;
    const fn = o.agg === 'count' ? sql`count(*)` : sql`${sql.raw(o.agg === 'sum' ? 'sum' : AGG_SQL[o.agg]!)}(${this.measure(o)})`;
    g.columns.push(sql`${fn} filter (where ${rows}) as ${sql.raw(name)}`);
    const ref = sql.raw(`${alias}.${name}`);
    return o.agg === 'count' || o.agg === 'sum' ? sql`coalesce(${ref}, 0)` : ref;
  }

  /** An aggregate's row conditions besides its window: paid orders by default, its filters, the product inside "any product". */
  rowConds(o: AggOperand): Sql[] {
    const conds: Sql[] = [];
    const where = o.where ?? [];
    // purchases are paid orders unless the rule asks about a status
    if (o.of === 'orders' && !where.some((f) => f.field === 'status')) conds.push(sql`o.status = 'paid'`);
    for (const f of where) conds.push(this.filter(o.of, f));
    if (this.product) {
      if (o.of === 'events') conds.push(sql`e.properties->>'product_id' = ${this.product}`);
      if (o.of === 'orders') {
        conds.push(sql`exists (select 1 from order_lines pl2 where pl2.workspace_id = o.workspace_id and pl2.order_id = o.id and pl2.product_id = ${this.product})`);
      }
    }
    return conds;
  }

  measure(o: AggOperand): Sql {
    if (!o.measure) return sql`1`;
    return o.measure.startsWith(PROPERTY_PREFIX)
      ? jsonValue(sql`e.properties->${o.measure.slice(PROPERTY_PREFIX.length)}::text`, 'number')
      : sql.raw(SOURCE_DEFS[o.of].measures[o.measure]!.sql);
  }

  /** The left joins the compiled condition reads: one grouped pass per source, one candidate set per "any product". */
  joins(): Sql {
    const out: Sql[] = [];
    for (const [key, g] of this.groups) {
      const src = SOURCE_DEFS[g.source];
      const a = sql.raw(src.alias);
      const time = sql.raw(src.time);
      const alias = sql.raw(`g_${key}`);
      // only rows some aggregate counts reach the grouping; a customer without any has no group
      out.push(sql`left join (
        select ${sql.raw(src.customer)} as customer_id, ${sql.join(g.columns)}
        from ${sql.raw(src.table)} ${a}
        where ${a}.workspace_id = ${this.ws} and ${time} > ${this.t} - make_interval(days => ${g.days}::int) and ${time} <= ${this.t}
          and (${sql.join(g.conds, sql` or `)})
        group by ${sql.raw(src.customer)}
      ) ${alias} on ${alias}.customer_id = c.id`);
    }
    out.push(...this.guards);
    return sql.join(out, sql` `);
  }
}

/** A JSON value read as the declared type without ever failing a cast: anything else reads as null. */
function jsonValue(j: Sql, type: 'number' | 'string' | 'boolean'): Sql {
  if (type === 'string') return sql`(${j} #>> '{}')`;
  if (type === 'number') {
    return sql`(case jsonb_typeof(${j}) when 'number' then (${j})::numeric
      when 'string' then case when (${j} #>> '{}') ~ ${NUMERIC_TEXT} then (${j} #>> '{}')::numeric end end)`;
  }
  return sql`(case when jsonb_typeof(${j}) = 'boolean' then (${j})::boolean
    when lower(${j} #>> '{}') in ('true', 'yes', 'y', '1', '是') then true
    when lower(${j} #>> '{}') in ('false', 'no', 'n', '0', '否') then false end)`;
}

function windowsOf(r: Rule): Window[] {
  if (isAnd(r)) return r.and.flatMap(windowsOf);
  if (isOr(r)) return r.or.flatMap(windowsOf);
  if (isNot(r)) return windowsOf(r.not);
  if (isAnyProduct(r)) return windowsOf(r.any_product);
  const ops = (o: Operand): Window[] => (isRatio(o) ? o.ratio.flatMap(ops) : isAgg(o) ? [o.window] : []);
  return ops(r.left);
}

/** The rule as one SQL boolean over c (customers), m (customer_metrics) and the joins it names. */
function compileRule(rule: Rule, ctx: CompileContext, opts: CompileOptions = {}): CompiledRule {
  const c = new Compiler(ctx, opts);
  const where = c.rule(rule) as RawBuilder<boolean>;
  return { where, joins: c.joins() };
}

/**
 * The customers a rule is evaluated over: the workspace's, merged and erased ones left
 * out, each with its customer_metrics row (m) and the joins the compiled rule reads.
 */
function customersWith(ctx: CompileContext, joins: Sql): Sql {
  return sql`from customers c
    left join customer_metrics m on m.workspace_id = c.workspace_id and m.customer_id = c.id
    ${joins}
    where c.workspace_id = ${ctx.workspaceId}::int and c.merged_into is null and c.erased_at is null`;
}

/** The ids of the workspace's customers the rule matches (merged and erased customers left out). */
export function matchingCustomersSql(rule: Rule, ctx: CompileContext, opts: CompileOptions = {}): RawBuilder<{ id: string }> {
  const { where, joins } = compileRule(rule, ctx, opts);
  return sql<{ id: string }>`select c.id ${customersWith(ctx, joins)} and ${where}`;
}

/**
 * (segment_id, customer_id) for every rule and every customer it matches, in one pass
 * over the customers: the rules share one compiler, so the aggregates of all rules over
 * one source and window length come from one grouped pass.
 */
export function matchingPairsSql(rules: readonly { id: string; rule: Rule }[], ctx: CompileContext): RawBuilder<{ segment_id: string; customer_id: string }> {
  if (rules.length === 0) throw new Error('matchingPairsSql needs at least one rule');
  const c = new Compiler(ctx);
  // the ids of the rules a customer matches, as one array per customer (a lateral list of
  // (id, condition) rows cost twice as much: one row per rule and customer, then filtered)
  const ids = rules.map((r) => sql`case when ${c.rule(r.rule)} then ${r.id}::text end`);
  return sql<{ segment_id: string; customer_id: string }>`
    select unnest(array_remove(array[${sql.join(ids)}], null)) as segment_id, c.id as customer_id ${customersWith(ctx, c.joins())}`;
}

/**
 * A preview from one evaluation of the rule: every customer's match of the rule (`hit`)
 * and of each part, kept once; from it the counts (n for the rule, n0, n1, … for the
 * parts) and the matching customers with the most spend. One row at least, with the
 * counts, even when nothing matches. One compiler, so the parts' aggregates share the
 * rule's grouped passes.
 */
export function previewSql(
  rule: Rule,
  parts: readonly Rule[],
  ctx: CompileContext,
  limit: number,
): RawBuilder<{ id: string | null; name: string | null; tier: string | null; lifecycle_stage: string | null; spend_total: number | null; orders_total: number | null } & Record<string, unknown>> {
  const c = new Compiler(ctx);
  const hit = c.rule(rule);
  const partCols = parts.map((r, i) => sql`, ${c.rule(r)} as ${sql.raw(`p${i}`)}`);
  const counts = parts.map((_, i) => sql`, count(*) filter (where ${sql.raw(`p${i}`)})::int as ${sql.raw(`n${i}`)}`);
  return sql`
    with x as materialized (
      select c.id, c.name, m.tier::text as tier, m.lifecycle_stage, m.spend_total, m.orders_total, ${hit} as hit ${sql.join(partCols, sql` `)}
      ${customersWith(ctx, c.joins())}
    )
    select s.id, s.name, s.tier, s.lifecycle_stage, s.spend_total, s.orders_total, t.*
    from (select count(*) filter (where hit)::int as n ${sql.join(counts, sql` `)} from x) t
    left join lateral (
      select * from x where x.hit order by x.spend_total desc nulls last, x.id limit ${limit}::int
    ) s on true
    order by s.spend_total desc nulls last, s.id`;
}
