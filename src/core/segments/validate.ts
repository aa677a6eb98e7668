// Checks a rule (parsed text or JSON from the API) against the whitelist and
// the limits. Errors name a JSON path ($.and[1].left.field) and say what to
// do; parseAndValidate adds line/column for the text form.
import {
  AGGS,
  type AggOperand,
  type AttrType,
  CMP_OPS,
  type Condition,
  type Filter,
  LIMITS,
  type Operand,
  OPS,
  type Rule,
  type RuleError,
  RuleSyntaxError,
  type Scalar,
  SOURCES,
  type Source,
  type Window,
} from './ast.ts';
import { ATTR_TYPES, ATTRIBUTE_PREFIX, CONSENT_PREFIX, FIELDS, type FieldType, KEY_PATTERN, PROPERTY_PREFIX, SOURCE_DEFS, suggest } from './fields.ts';
import { inferAttributeType, locate, parseRule } from './parser.ts';

type VType = FieldType | 'none';

export interface Validated {
  rule: Rule;
  conditions: number;
  depth: number;
}

export type ValidationResult = { ok: true; value: Validated } | { ok: false; errors: RuleError[] };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

export function isValidDate(s: string, withTime: boolean): boolean {
  const m = DATE_RE.exec(s) ?? (withTime ? DATETIME_RE.exec(s) : null);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1) return false;
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) return false;
  return !Number.isNaN(Date.parse(DATE_RE.test(s) ? `${s}T00:00:00Z` : s.replace(' ', 'T')));
}

class Checker {
  errors: RuleError[] = [];
  conditions = 0;
  maxDepth = 0;

  err(path: string, message: string): void {
    if (this.errors.length < 20) this.errors.push({ message, path });
  }

  keys(v: Record<string, unknown>, path: string, allowed: string[]): void {
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        const s = suggest(k, allowed);
        this.err(`${path}.${k}`, `unexpected property "${k}"${s ? ` — did you mean "${s}"?` : `; allowed here: ${allowed.join(', ')}`}`);
      }
    }
  }

  rule(v: unknown, path: string, depth: number, inProduct: boolean): Rule | null {
    this.maxDepth = Math.max(this.maxDepth, depth);
    if (depth > LIMITS.maxDepth) {
      this.err(path, `the rule nests deeper than ${LIMITS.maxDepth} levels: flatten it`);
      return null;
    }
    if (!isObj(v)) {
      this.err(path, `expected a rule object ({"and": […]}, {"or": […]}, {"not": …}, {"any_product": …} or {"left", "op", "value"}), got ${show(v)}`);
      return null;
    }
    for (const k of ['and', 'or'] as const) {
      if (k in v) {
        this.keys(v, path, [k]);
        const items = v[k];
        if (!Array.isArray(items)) {
          this.err(`${path}.${k}`, `"${k}" takes a list of rules`);
          return null;
        }
        if (items.length === 0) {
          this.err(`${path}.${k}`, `"${k}" needs at least one rule`);
          return null;
        }
        if (items.length > LIMITS.maxConditions) {
          this.err(`${path}.${k}`, `"${k}" may hold at most ${LIMITS.maxConditions} rules`);
          return null;
        }
        const out = items.map((x, i) => this.rule(x, `${path}.${k}[${i}]`, depth + 1, inProduct));
        return out.every(Boolean) ? ({ [k]: out } as unknown as Rule) : null;
      }
    }
    if ('not' in v) {
      this.keys(v, path, ['not']);
      const inner = this.rule(v.not, `${path}.not`, depth + 1, inProduct);
      return inner ? { not: inner } : null;
    }
    if ('any_product' in v) {
      this.keys(v, path, ['any_product']);
      if (inProduct) {
        this.err(path, '"any product" cannot be nested in another "any product"');
        return null;
      }
      const inner = this.rule(v.any_product, `${path}.any_product`, depth + 1, true);
      return inner ? { any_product: inner } : null;
    }
    if ('left' in v || 'op' in v) return this.condition(v, path, inProduct);
    const s = suggest(Object.keys(v)[0] ?? '', ['and', 'or', 'not', 'any_product', 'left', 'op', 'value']);
    this.err(path, `not a rule: expected "and", "or", "not", "any_product" or a condition with "left", "op" and "value"${s ? ` — did you mean "${s}"?` : ''}`);
    return null;
  }

  condition(v: Record<string, unknown>, path: string, inProduct: boolean): Condition | null {
    this.keys(v, path, ['left', 'op', 'value']);
    this.conditions++;
    if (this.conditions === LIMITS.maxConditions + 1) this.err(path, `a rule may hold at most ${LIMITS.maxConditions} conditions`);
    if (typeof v.op !== 'string' || !(OPS as readonly string[]).includes(v.op)) {
      this.err(`${path}.op`, `unknown operator ${show(v.op)}; use one of ${OPS.join(', ')}`);
      return null;
    }
    const op = v.op as Condition['op'];
    const left = this.operand(v.left, `${path}.left`, inProduct, 0);
    if (!left) return null;
    const c: Condition = { left: left.node, op };
    if ('value' in v) c.value = v.value as Scalar;
    if (left.node && 'field' in left.node && left.node.field.startsWith(ATTRIBUTE_PREFIX) && !left.node.type) {
      inferAttributeType(c);
      left.type = (left.node.type ?? 'none') as VType;
    }
    const ok = this.opValue(left.type, left.def, op, v, path, left.isAgg);
    return ok ? c : null;
  }

  opValue(
    type: VType,
    def: { values?: readonly string[]; name: string; anniversary?: boolean } | null,
    op: Condition['op'],
    v: Record<string, unknown>,
    path: string,
    isAgg: boolean,
  ): boolean {
    const vp = `${path}.value`;
    const what = def ? `"${def.name}"` : 'this operand';
    if (op === 'is_empty' || op === 'is_not_empty') {
      if ('value' in v && v.value !== null && v.value !== undefined) this.err(vp, `"${op}" takes no value`);
      if (isAgg) this.err(`${path}.op`, 'an aggregate is never empty: compare it with a number instead (e.g. = 0)');
      return true;
    }
    if (op === 'within_next_days' || op === 'within_last_days') {
      if (type !== 'date' && type !== 'datetime') {
        this.err(`${path}.op`, `"within" works on dates; ${what} is ${type === 'none' ? 'not a date' : `a ${type}`}`);
        return false;
      }
      return this.days(v.value, vp, 0);
    }
    if (op === 'in' || op === 'not_in') {
      if (!Array.isArray(v.value)) {
        this.err(vp, `"${op}" takes a list of values, e.g. ["a", "b"]`);
        return false;
      }
      if (v.value.length === 0) {
        this.err(vp, 'the list is empty: give at least one value');
        return false;
      }
      if (v.value.length > LIMITS.maxListItems) {
        this.err(vp, `a list may hold at most ${LIMITS.maxListItems} values`);
        return false;
      }
      if (type === 'boolean' || type === 'date' || type === 'datetime') {
        this.err(`${path}.op`, `"${op}" does not apply to ${type === 'boolean' ? 'true/false' : 'dates'}; use = or a comparison`);
        return false;
      }
      return v.value.every((x, i) => this.scalar(type, def, x, `${vp}[${i}]`));
    }
    if (!('value' in v)) {
      this.err(vp, `"${op}" needs a value`);
      return false;
    }
    if ((type === 'string' || type === 'boolean') && op !== '=' && op !== '!=') {
      this.err(`${path}.op`, `"${op}" does not apply to ${type === 'string' ? 'text' : 'true/false'} ${what}; use = or != (or in)`);
      return false;
    }
    return this.scalar(type, def, v.value, vp);
  }

  days(v: unknown, path: string, min: number): boolean {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > LIMITS.maxDays) {
      this.err(path, `expected a whole number of days from ${min} to ${LIMITS.maxDays}, got ${show(v)}`);
      return false;
    }
    return true;
  }

  scalar(type: VType, def: { values?: readonly string[]; name: string } | null, v: unknown, path: string): boolean {
    const what = def ? `"${def.name}"` : 'this operand';
    if (type === 'number') {
      if (typeof v !== 'number') {
        this.err(path, `${what} is a number; got ${show(v)}${typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? ' — drop the quotes' : ''}`);
        return false;
      }
      if (!Number.isFinite(v) || Math.abs(v) > LIMITS.maxNumber) {
        this.err(path, `numbers in rules are limited to ±${LIMITS.maxNumber.toExponential()}, got ${show(v)}`);
        return false;
      }
      return true;
    }
    if (type === 'boolean') {
      if (typeof v !== 'boolean') {
        this.err(path, `${what} is true or false; got ${show(v)}`);
        return false;
      }
      return true;
    }
    if (typeof v !== 'string') {
      this.err(path, `${what} is ${type === 'string' ? 'text: put the value in quotes' : 'a date: write it as "YYYY-MM-DD"'}; got ${show(v)}`);
      return false;
    }
    if (v.length > LIMITS.maxStringLength) {
      this.err(path, `text values are limited to ${LIMITS.maxStringLength} characters`);
      return false;
    }
    if (v.includes('\u0000')) {
      this.err(path, 'text values may not contain the NUL character');
      return false;
    }
    if (type === 'date' || type === 'datetime') {
      if (!isValidDate(v, type === 'datetime')) {
        this.err(path, `${show(v)} is not a date: write "YYYY-MM-DD"${type === 'datetime' ? ' or an ISO date-time' : ''}`);
        return false;
      }
      return true;
    }
    if (def?.values && !def.values.includes(v)) {
      const s = suggest(v, def.values);
      this.err(path, `${what} has no value ${show(v)}${s ? ` — did you mean "${s}"?` : `; the values are ${def.values.join(', ')}`}`);
      return false;
    }
    return true;
  }

  operand(
    v: unknown,
    path: string,
    inProduct: boolean,
    ratioDepth: number,
  ): { node: Operand; type: VType; def: { values?: readonly string[]; name: string; anniversary?: boolean } | null; isAgg: boolean } | null {
    if (!isObj(v)) {
      this.err(path, `expected an operand ({"field": …}, {"agg": …, "of": …} or {"ratio": [a, b]}), got ${show(v)}`);
      return null;
    }
    if ('ratio' in v) {
      this.keys(v, path, ['ratio']);
      if (ratioDepth > 0) {
        this.err(path, 'a ratio cannot contain another ratio');
        return null;
      }
      if (!Array.isArray(v.ratio) || v.ratio.length !== 2) {
        this.err(`${path}.ratio`, 'a ratio takes exactly two operands: [numerator, denominator]');
        return null;
      }
      const a = this.operand(v.ratio[0], `${path}.ratio[0]`, inProduct, 1);
      const b = this.operand(v.ratio[1], `${path}.ratio[1]`, inProduct, 1);
      if (!a || !b) return null;
      for (const [x, i] of [[a, 0], [b, 1]] as const) {
        if (x.type !== 'number') {
          this.err(`${path}.ratio[${i}]`, 'both sides of a ratio must be numbers (counts, sums or numeric fields)');
          return null;
        }
      }
      return { node: { ratio: [a.node, b.node] }, type: 'number', def: null, isAgg: true };
    }
    if ('agg' in v || 'of' in v) return this.agg(v, path, inProduct);
    if ('field' in v) {
      this.keys(v, path, ['field', 'type']);
      const name = v.field;
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        this.err(`${path}.field`, `expected a field name, got ${show(name)}`);
        return null;
      }
      if (name.startsWith(ATTRIBUTE_PREFIX)) {
        const key = name.slice(ATTRIBUTE_PREFIX.length);
        if (!KEY_PATTERN.test(key)) {
          this.err(`${path}.field`, `"${key}" is not an attribute name (letters, digits, _ and -; at most 64)`);
          return null;
        }
        if (v.type !== undefined && !(ATTR_TYPES as readonly unknown[]).includes(v.type)) {
          this.err(`${path}.type`, `an attribute's type is one of ${ATTR_TYPES.join(', ')}, got ${show(v.type)}`);
          return null;
        }
        const node = { field: name, ...(v.type ? { type: v.type as AttrType } : {}) };
        return { node, type: (v.type as VType) ?? 'none', def: { name }, isAgg: false };
      }
      if (v.type !== undefined) this.err(`${path}.type`, '"type" applies only to attribute.* fields');
      if (name.startsWith(CONSENT_PREFIX)) {
        const parts = name.slice(CONSENT_PREFIX.length).split('.');
        if (parts.length !== 2 || !parts.every((p) => KEY_PATTERN.test(p))) {
          this.err(`${path}.field`, `consent fields are consent.CHANNEL.PURPOSE, e.g. consent.sms.marketing; got "${name}"`);
          return null;
        }
        return { node: { field: name }, type: 'boolean', def: { name }, isAgg: false };
      }
      const def = FIELDS.get(name);
      if (!def) {
        const s = suggest(name, FIELDS.keys());
        this.err(`${path}.field`, `unknown field "${name}"${s ? ` — did you mean "${s}"?` : '; see docs/rules.md for the fields, or use attribute.NAME for a custom attribute'}`);
        return null;
      }
      return { node: { field: name }, type: def.type, def, isAgg: false };
    }
    this.err(path, `expected an operand: {"field": …}, {"agg": …, "of": …} or {"ratio": [a, b]}`);
    return null;
  }

  agg(v: Record<string, unknown>, path: string, inProduct: boolean): { node: Operand; type: VType; def: null; isAgg: boolean } | null {
    this.keys(v, path, ['agg', 'of', 'measure', 'where', 'window']);
    if (typeof v.of !== 'string' || !(SOURCES as readonly string[]).includes(v.of)) {
      const s = typeof v.of === 'string' ? suggest(v.of, SOURCES) : null;
      this.err(`${path}.of`, `unknown source ${show(v.of)}${s ? ` — did you mean "${s}"?` : `; use ${SOURCES.join(', ')}`}`);
      return null;
    }
    const src = SOURCE_DEFS[v.of as Source];
    if (inProduct && src.name === 'tickets') {
      this.err(`${path}.of`, 'inside "any product" only orders and events are counted per product');
      return null;
    }
    if (typeof v.agg !== 'string' || !(AGGS as readonly string[]).includes(v.agg)) {
      const s = typeof v.agg === 'string' ? suggest(v.agg, AGGS) : null;
      this.err(`${path}.agg`, `unknown function ${show(v.agg)}${s ? ` — did you mean "${s}"?` : `; use ${AGGS.join(', ')}`}`);
      return null;
    }
    const node: AggOperand = { agg: v.agg as AggOperand['agg'], of: src.name, window: { last_days: 1 } };
    let ok = true;
    if (v.agg === 'count') {
      if (v.measure !== undefined) {
        this.err(`${path}.measure`, 'count takes no measure: it counts rows (use sum/avg/max/min to add up a measure)');
        ok = false;
      }
    } else {
      const measures = [...Object.keys(src.measures), ...(src.properties ? ['property.NAME'] : [])];
      const m = v.measure;
      const isProp = src.properties && typeof m === 'string' && m.startsWith(PROPERTY_PREFIX) && KEY_PATTERN.test(m.slice(PROPERTY_PREFIX.length));
      if (typeof m !== 'string' || (!src.measures[m] && !isProp)) {
        const s = typeof m === 'string' ? suggest(m, Object.keys(src.measures)) : null;
        this.err(
          `${path}.measure`,
          measures.length === 0
            ? `${src.name} have nothing to ${v.agg}; use count`
            : `${v.agg} of ${src.name} needs a measure: ${measures.join(', ')}${m === undefined ? '' : `; got ${show(m)}`}${s ? ` — did you mean "${s}"?` : ''}`,
        );
        ok = false;
      } else node.measure = m;
    }
    if (v.where !== undefined) {
      if (!Array.isArray(v.where)) {
        this.err(`${path}.where`, 'where takes a list of conditions on the rows');
        ok = false;
      } else if (v.where.length > 16) {
        this.err(`${path}.where`, 'at most 16 row conditions per aggregate');
        ok = false;
      } else {
        const where: Filter[] = [];
        v.where.forEach((fv, i) => {
          const fl = this.filter(src.name, fv, `${path}.where[${i}]`);
          if (fl) where.push(fl);
          else ok = false;
        });
        if (where.length) node.where = where;
      }
    }
    const w = this.window(v.window, `${path}.window`);
    if (!w) ok = false;
    else node.window = w;
    return ok ? { node, type: 'number', def: null, isAgg: true } : null;
  }

  window(v: unknown, path: string): Window | null {
    if (!isObj(v)) {
      this.err(path, `an aggregate needs a time window: {"last_days": N} (N ≤ ${LIMITS.maxDays}) or {"this": "month"}`);
      return null;
    }
    if ('this' in v) {
      this.keys(v, path, ['this']);
      if (v.this !== 'month') {
        this.err(`${path}.this`, `only "this month" is supported, got ${show(v.this)}`);
        return null;
      }
      return { this: 'month' };
    }
    this.keys(v, path, ['last_days', 'this']);
    if (!this.days(v.last_days, `${path}.last_days`, 1)) return null;
    return { last_days: v.last_days as number };
  }

  filter(source: Source, v: unknown, path: string): Filter | null {
    if (!isObj(v)) {
      this.err(path, `expected a row condition {"field", "op", "value"}, got ${show(v)}`);
      return null;
    }
    this.keys(v, path, ['field', 'op', 'value']);
    const src = SOURCE_DEFS[source];
    const name = v.field;
    if (typeof name !== 'string') {
      this.err(`${path}.field`, `expected a field name, got ${show(name)}`);
      return null;
    }
    let type: VType;
    let def: { values?: readonly string[]; name: string } | null;
    if (src.properties && name.startsWith(PROPERTY_PREFIX)) {
      if (!KEY_PATTERN.test(name.slice(PROPERTY_PREFIX.length))) {
        this.err(`${path}.field`, `"${name.slice(PROPERTY_PREFIX.length)}" is not a property name (letters, digits, _ and -; at most 64)`);
        return null;
      }
      const first = Array.isArray(v.value) ? v.value[0] : v.value;
      type = typeof first === 'number' ? 'number' : typeof first === 'boolean' ? 'boolean' : 'string';
      def = { name };
    } else {
      const fd = src.filters.get(name);
      if (!fd) {
        const names = [...src.filters.keys(), ...(src.properties ? ['property.NAME'] : [])];
        const s = suggest(name, src.filters.keys());
        this.err(`${path}.field`, `${src.name} have no field "${name}"${s ? ` — did you mean "${s}"?` : `; use ${names.join(', ')}`}`);
        return null;
      }
      type = fd.type;
      def = fd;
    }
    if (typeof v.op !== 'string' || ![...CMP_OPS, 'in', 'not_in'].includes(v.op)) {
      this.err(`${path}.op`, `unknown operator ${show(v.op)}; use ${[...CMP_OPS, 'in', 'not_in'].join(', ')}`);
      return null;
    }
    const ok = this.opValue(type, def, v.op as Filter['op'], v, path, false);
    return ok ? { field: name, op: v.op as Filter['op'], value: v.value as Scalar } : null;
  }
}

/** Validates a rule given as JSON (from the API). */
export function validateRule(input: unknown): ValidationResult {
  const c = new Checker();
  let rule: Rule | null = null;
  try {
    rule = c.rule(input, '$', 1, false);
  } catch (e) {
    // a pathological input (e.g. a cyclic object) is a validation error, not a crash
    c.err('$', `the rule could not be read: ${(e as Error).message}`);
  }
  if (c.errors.length || !rule) return { ok: false, errors: c.errors.length ? c.errors : [{ message: 'invalid rule', path: '$' }] };
  return { ok: true, value: { rule, conditions: c.conditions, depth: c.maxDepth } };
}

/** Parses the text form and validates it; errors carry line and column. */
export function parseAndValidate(text: string): ValidationResult {
  let parsed: ReturnType<typeof parseRule>;
  try {
    parsed = parseRule(text);
  } catch (e) {
    if (e instanceof RuleSyntaxError) return { ok: false, errors: e.errors };
    throw e;
  }
  const r = validateRule(parsed.rule);
  if (r.ok) return r;
  return { ok: false, errors: r.errors.map((e) => locate(text, parsed.rule, parsed.spans, e)) };
}

/** Either form: a string is the text form, anything else the JSON form. */
export function checkRule(input: unknown): ValidationResult {
  return typeof input === 'string' ? parseAndValidate(input) : validateRule(input);
}

/** Throws RuleSyntaxError unless the rule is valid. */
export function mustRule(input: unknown): Validated {
  const r = checkRule(input);
  if (!r.ok) throw new RuleSyntaxError(r.errors);
  return r.value;
}
