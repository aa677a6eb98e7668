// The text form, parsed by hand (recursive descent) into the JSON form.
//
//   rule      := or
//   or        := and ("or" and)*
//   and       := unary ("and" unary)*
//   unary     := "not" unary | "(" rule ")" | "any" "product" "(" rule ")" | condition
//   condition := operand ("=" | "!=" | ">" | ">=" | "<" | "<=") value
//              | operand ["not"] "in" "(" value ("," value)* ")"
//              | operand "is" ["not"] "empty"
//              | operand "within" ("next" | "last") number "days"
//   operand   := primary ["/" primary]
//   primary   := source "." fn "(" [measure ","] arg ("," arg)* ")" | name ("." name)*
//   arg       := filter | "last" number "days" | "this" "month"
//   value     := "string" | number ["%"] | true | false
//
// Every node keeps where it came from (spans), so validation errors on a parsed
// rule can point at a line and column.
import {
  AGGS,
  type AggOperand,
  type AttrType,
  type CmpOp,
  type Condition,
  type Filter,
  LIMITS,
  type Operand,
  type Rule,
  type RuleError,
  RuleSyntaxError,
  type Scalar,
  SOURCES,
  type Window,
} from './ast.ts';
import { ATTRIBUTE_PREFIX } from './fields.ts';

export interface Span {
  offset: number;
  length: number;
}
/** For each node: its own span ('') and its scalar properties' spans ('value', 'field', 'value.2', …). */
export type Spans = WeakMap<object, Record<string, Span>>;

type TokKind = 'ident' | 'string' | 'number' | 'op' | 'punct' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  value?: string | number;
  offset: number;
  length: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'empty', 'within', 'next', 'last', 'days', 'day', 'this', 'month', 'any', 'product', 'true', 'false']);

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

function tokenize(src: string): Tok[] | RuleError {
  const toks: Tok[] = [];
  let i = 0;
  const err = (message: string, at: number, length = 1): RuleError => ({ message, path: '$', offset: at, length, ...lineColumn(src, at) });
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === '"' || ch === "'") {
      let out = '';
      i++;
      let closed = false;
      while (i < src.length) {
        const c = src[i]!;
        if (c === ch) {
          closed = true;
          i++;
          break;
        }
        if (c === '\\') {
          const n = src[i + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f' };
          if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            out += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          if (n !== undefined && map[n] !== undefined) {
            out += map[n];
            i += 2;
            continue;
          }
          return err(`unknown escape "\\${n ?? ''}" in a string`, i, 2);
        }
        out += c;
        i++;
      }
      if (!closed) return err('this string is not closed: add the closing quote', start, src.length - start);
      toks.push({ kind: 'string', text: src.slice(start, i), value: out, offset: start, length: i - start });
      continue;
    }
    const num = /^-?(?:\d[\d_]*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (ch !== '-' || /\d/.test(src[i + 1] ?? ''))) {
      i += num[0].length;
      const value = Number(num[0].replaceAll('_', ''));
      toks.push({ kind: 'number', text: num[0], value, offset: start, length: num[0].length });
      continue;
    }
    const id = /^[\p{L}_][\p{L}\p{N}_-]*/u.exec(src.slice(i));
    if (id) {
      i += id[0].length;
      toks.push({ kind: 'ident', text: id[0], offset: start, length: id[0].length });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['>=', '<=', '!=', '<>', '=='].includes(two)) {
      i += 2;
      toks.push({ kind: 'op', text: two === '<>' ? '!=' : two === '==' ? '=' : two, offset: start, length: 2 });
      continue;
    }
    if ('=<>'.includes(ch)) {
      i++;
      toks.push({ kind: 'op', text: ch, offset: start, length: 1 });
      continue;
    }
    if ('(),./%'.includes(ch)) {
      i++;
      toks.push({ kind: 'punct', text: ch, offset: start, length: 1 });
      continue;
    }
    return err(`unexpected character "${ch}"`, i);
  }
  toks.push({ kind: 'eof', text: '', offset: src.length, length: 0 });
  return toks;
}

class Fail extends Error {
  readonly e: RuleError;
  constructor(e: RuleError) {
    super(e.message);
    this.e = e;
  }
}

export interface Parsed {
  rule: Rule;
  spans: Spans;
}

/** Parses the text form; throws RuleSyntaxError with line/column on the first syntax error. */
export function parseRule(src: string): Parsed {
  if (src.length > LIMITS.maxTextLength) {
    throw new RuleSyntaxError([{ message: `the rule is longer than ${LIMITS.maxTextLength} characters`, path: '$', line: 1, column: 1, offset: 0, length: src.length }]);
  }
  const toks = tokenize(src);
  if (!Array.isArray(toks)) throw new RuleSyntaxError([toks]);
  const spans: Spans = new WeakMap();
  let pos = 0;
  let depth = 0;
  const peek = (k = 0) => toks[Math.min(pos + k, toks.length - 1)]!;
  const next = () => toks[pos++]!;
  const kw = (t: Tok, word: string) => t.kind === 'ident' && t.text.toLowerCase() === word;
  const fail = (message: string, t: Tok = peek()): never => {
    throw new Fail({ message, path: '$', offset: t.offset, length: Math.max(1, t.length), ...lineColumn(src, t.offset) });
  };
  const describe = (t: Tok) => (t.kind === 'eof' ? 'the end of the rule' : `"${t.text}"`);
  const expectPunct = (p: string, what: string) => {
    const t = peek();
    if (t.kind !== 'punct' || t.text !== p) fail(`expected "${p}" ${what}, found ${describe(t)}`);
    return next();
  };
  const expectKw = (word: string, what: string) => {
    const t = peek();
    if (!kw(t, word)) fail(`expected "${word}" ${what}, found ${describe(t)}`);
    return next();
  };
  const spanFrom = (start: Tok): Span => {
    const last = toks[pos - 1] ?? start;
    return { offset: start.offset, length: last.offset + last.length - start.offset };
  };
  const mark = <T extends object>(node: T, start: Tok, extra: Record<string, Span> = {}): T => {
    spans.set(node, { '': spanFrom(start), ...extra });
    return node;
  };
  const tokSpan = (t: Tok): Span => ({ offset: t.offset, length: t.length });

  function enter(t: Tok) {
    depth++;
    if (depth > LIMITS.maxDepth) fail(`the rule nests deeper than ${LIMITS.maxDepth} levels: flatten it`, t);
  }

  function parseOr(): Rule {
    const start = peek();
    const items = [parseAnd()];
    while (kw(peek(), 'or')) {
      next();
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : mark({ or: items }, start);
  }
  function parseAnd(): Rule {
    const start = peek();
    const items = [parseUnary()];
    while (kw(peek(), 'and')) {
      next();
      items.push(parseUnary());
    }
    return items.length === 1 ? items[0]! : mark({ and: items }, start);
  }
  function parseUnary(): Rule {
    const t = peek();
    if (kw(t, 'not')) {
      next();
      enter(t);
      const inner = parseUnary();
      depth--;
      return mark({ not: inner }, t);
    }
    if (t.kind === 'punct' && t.text === '(') {
      next();
      enter(t);
      const inner = parseOr();
      expectPunct(')', 'to close the parenthesis');
      depth--;
      return inner;
    }
    if (kw(t, 'any') && kw(peek(1), 'product')) {
      next();
      next();
      enter(t);
      expectPunct('(', 'after "any product"');
      const inner = parseOr();
      expectPunct(')', 'to close "any product ("');
      depth--;
      return mark({ any_product: inner }, t);
    }
    return parseCondition();
  }

  function parseValue(): { v: Scalar; tok: Tok; span: Span } {
    const t = peek();
    if (t.kind === 'string') {
      next();
      return { v: t.value as string, tok: t, span: tokSpan(t) };
    }
    if (t.kind === 'number') {
      next();
      let v = t.value as number;
      const p = peek();
      if (p.kind === 'punct' && p.text === '%' && p.offset === t.offset + t.length) {
        next();
        v = Number((v / 100).toPrecision(15));
        return { v, tok: t, span: { offset: t.offset, length: t.length + 1 } };
      }
      return { v, tok: t, span: tokSpan(t) };
    }
    if (kw(t, 'true') || kw(t, 'false')) {
      next();
      return { v: t.text.toLowerCase() === 'true', tok: t, span: tokSpan(t) };
    }
    if (t.kind === 'ident') fail(`expected a value, found the name "${t.text}": put text in quotes, e.g. "${t.text}"`);
    return fail(`expected a value (a "quoted string", a number or true/false), found ${describe(t)}`);
  }

  function parseList(): { values: Scalar[]; spans: Record<string, Span> } {
    expectPunct('(', 'to start the list');
    const values: Scalar[] = [];
    const sp: Record<string, Span> = {};
    if (peek().kind === 'punct' && peek().text === ')') {
      next();
      return { values, spans: sp };
    }
    for (;;) {
      const v = parseValue();
      sp[`value.${values.length}`] = v.span;
      values.push(v.v);
      if (values.length > LIMITS.maxListItems) fail(`a list may hold at most ${LIMITS.maxListItems} values`, v.tok);
      const t = peek();
      if (t.kind === 'punct' && t.text === ',') {
        next();
        continue;
      }
      expectPunct(')', 'or "," in the list');
      return { values, spans: sp };
    }
  }

  function parseName(): { name: string; start: Tok; span: Span } {
    const start = peek();
    if (start.kind !== 'ident' || (KEYWORDS.has(start.text.toLowerCase()) && start.text.toLowerCase() !== 'product')) {
      fail(`expected a field name, found ${describe(start)}`);
    }
    let name = next().text;
    while (peek().kind === 'punct' && peek().text === '.') {
      next();
      const t = peek();
      if (t.kind === 'ident') name += `.${next().text}`;
      else if (t.kind === 'string') name += `.${next().value as string}`;
      else fail(`expected a name after ".", found ${describe(t)}`);
    }
    return { name, start, span: spanFrom(start) };
  }

  function parseWindow(): Window | null {
    const t = peek();
    if (kw(t, 'last') && peek(1).kind === 'number') {
      next();
      const n = next();
      const unit = peek();
      if (!kw(unit, 'days') && !kw(unit, 'day')) fail(`expected "days" after "last ${n.text}", found ${describe(unit)}`);
      next();
      return { last_days: n.value as number };
    }
    if (kw(t, 'this')) {
      next();
      expectKw('month', 'after "this" (only "this month" is supported)');
      return { this: 'month' };
    }
    return null;
  }

  function parsePrimary(): Operand {
    const t = peek();
    const isAgg = t.kind === 'ident' && (SOURCES as readonly string[]).includes(t.text) && peek(1).text === '.' && peek(3).text === '(';
    if (isAgg) {
      const source = next().text as AggOperand['of'];
      next();
      const fnTok = next();
      const fn = fnTok.text;
      if (!(AGGS as readonly string[]).includes(fn)) fail(`unknown function "${fn}"; use ${AGGS.join(', ')}`, fnTok);
      expectPunct('(', `after ${source}.${fn}`);
      const node: AggOperand = { agg: fn as AggOperand['agg'], of: source, window: { last_days: 0 } };
      const sp: Record<string, Span> = {};
      const where: Filter[] = [];
      let window: Window | null = null;
      let first = true;
      while (!(peek().kind === 'punct' && peek().text === ')')) {
        if (!first) expectPunct(',', 'between the arguments');
        const a = peek();
        const w = parseWindow();
        if (w) {
          if (window) fail('this aggregate already has a time window', a);
          window = w;
          sp.window = spanFrom(a);
        } else {
          const n = parseName();
          const after = peek();
          if (first && after.kind === 'punct' && (after.text === ',' || after.text === ')')) {
            node.measure = n.name;
            sp.measure = spanFrom(a);
          } else where.push(parseFilter(n));
        }
        first = false;
      }
      expectPunct(')', `to close ${source}.${fn}(`);
      if (!window) fail(`${source}.${fn}(…) needs a time window: add "last 30 days" or "this month"`, t);
      node.window = window!;
      if (where.length) node.where = where;
      // keep the property order stable for printing and comparing
      const ordered: AggOperand = { agg: node.agg, of: node.of, ...(node.measure ? { measure: node.measure } : {}), ...(node.where ? { where: node.where } : {}), window: node.window };
      return mark(ordered, t, sp);
    }
    const { name, start, span } = parseName();
    return mark({ field: name }, start, { field: span });
  }

  function parseFilter(n: { name: string; start: Tok; span: Span }): Filter {
    const { name, start, span: fieldSpan } = n;
    const t = peek();
    if (t.kind === 'op') {
      next();
      const v = parseValue();
      return mark({ field: name, op: t.text as CmpOp, value: v.v }, start, { field: fieldSpan, value: v.span });
    }
    let negate = false;
    if (kw(t, 'not') && kw(peek(1), 'in')) {
      next();
      negate = true;
    }
    if (kw(peek(), 'in')) {
      next();
      const l = parseList();
      return mark({ field: name, op: negate ? 'not_in' : 'in', value: l.values }, start, { field: fieldSpan, ...l.spans });
    }
    return fail(`expected a comparison (=, !=, >, >=, <, <=, in) after "${name}", found ${describe(t)}`);
  }

  function parseOperand(): Operand {
    const start = peek();
    const left = parsePrimary();
    if (peek().kind === 'punct' && peek().text === '/') {
      next();
      const right = parsePrimary();
      return mark({ ratio: [left, right] as [Operand, Operand] }, start);
    }
    return left;
  }

  function parseCondition(): Rule {
    const start = peek();
    const left = parseOperand();
    const t = peek();
    let node: Condition;
    if (t.kind === 'op') {
      next();
      const v = parseValue();
      node = mark({ left, op: t.text as CmpOp, value: v.v }, start, { value: v.span });
    } else if (kw(t, 'in') || (kw(t, 'not') && kw(peek(1), 'in'))) {
      const negate = kw(t, 'not');
      next();
      if (negate) next();
      const l = parseList();
      node = mark({ left, op: negate ? 'not_in' : 'in', value: l.values }, start, l.spans);
    } else if (kw(t, 'is')) {
      next();
      const negate = kw(peek(), 'not');
      if (negate) next();
      expectKw('empty', negate ? 'after "is not"' : 'after "is"');
      node = mark({ left, op: negate ? 'is_not_empty' : 'is_empty' }, start);
    } else if (kw(t, 'within')) {
      next();
      const dir = peek();
      if (!kw(dir, 'next') && !kw(dir, 'last')) fail(`expected "next" or "last" after "within", found ${describe(dir)}`);
      next();
      const n = peek();
      if (n.kind !== 'number') fail(`expected a number of days, found ${describe(n)}`);
      next();
      const unit = peek();
      if (!kw(unit, 'days') && !kw(unit, 'day')) fail(`expected "days", found ${describe(unit)}`);
      next();
      node = mark({ left, op: kw(dir, 'next') ? 'within_next_days' : 'within_last_days', value: n.value as number }, start, { value: tokSpan(n) });
    } else {
      return fail(`expected a comparison (=, !=, >, >=, <, <=, in, is empty, within) after the operand, found ${describe(t)}`);
    }
    inferAttributeType(node);
    return node;
  }

  try {
    const rule = parseOr();
    if (peek().kind !== 'eof') {
      const t = peek();
      if (t.kind === 'punct' && t.text === ')') fail('this ")" has no matching "("', t);
      fail(`expected "and", "or" or the end of the rule, found ${describe(t)}`, t);
    }
    return { rule, spans };
  } catch (e) {
    if (e instanceof Fail) throw new RuleSyntaxError([e.e]);
    throw e;
  }
}

/** attribute.NAME: the type to read it as, from the value it is compared with. */
export function inferAttributeType(c: Condition): void {
  const l = c.left;
  if (!('field' in l) || !l.field.startsWith(ATTRIBUTE_PREFIX) || l.type) return;
  const v = Array.isArray(c.value) ? c.value[0] : c.value;
  let type: AttrType = 'string';
  if (typeof v === 'number' && !c.op.startsWith('within')) type = 'number';
  else if (typeof v === 'boolean') type = 'boolean';
  l.type = type;
}

/** Path segments of "$.and[0].left.field". */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/\.([A-Za-z_]+)|\[(\d+)\]/g)) out.push(m[1] ?? Number(m[2]));
  return out;
}

/** Line/column for an error found on a parsed rule: the span of the deepest node on its path. */
export function locate(text: string, rule: Rule, spans: Spans, e: RuleError): RuleError {
  let cur: unknown = rule;
  let best: Span | undefined = spans.get(rule as object)?.[''];
  const segs = pathSegments(e.path);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (cur === null || typeof cur !== 'object') break;
    const own = spans.get(cur as object);
    let found: Span | undefined;
    for (let j = segs.length; j > i && !found; j--) found = own?.[segs.slice(i, j).map(String).join('.')];
    if (found) {
      best = found;
      break;
    }
    cur = (cur as Record<string | number, unknown>)[s];
    if (cur && typeof cur === 'object' && spans.get(cur)?.['']) best = spans.get(cur)![''];
  }
  if (!best) return e;
  return { ...e, offset: best.offset, length: best.length, ...lineColumn(text, best.offset) };
}
