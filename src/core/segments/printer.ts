// The JSON form back to the text form: parseRule(printRule(r)) gives r again.
import { type Filter, isAgg, isAnd, isAnyProduct, isNot, isOr, isRatio, type Operand, type Rule, type Scalar, type Window } from './ast.ts';

const IDENT = /^[\p{L}_][\p{L}\p{N}_-]*$/u;
const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'empty', 'within', 'next', 'last', 'days', 'day', 'this', 'month', 'any', 'true', 'false']);

export function printScalar(v: Scalar): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return v ? 'true' : 'false';
}

function printName(name: string): string {
  return name
    .split('.')
    .map((p, i) => (IDENT.test(p) && !(i === 0 && RESERVED.has(p.toLowerCase())) ? p : JSON.stringify(p)))
    .join('.');
}

function printWindow(w: Window): string {
  return 'this' in w ? 'this month' : `last ${w.last_days} days`;
}

function printFilter(f: Filter): string {
  if (f.op === 'in' || f.op === 'not_in') {
    const vals = Array.isArray(f.value) ? f.value : [f.value];
    return `${printName(f.field)} ${f.op === 'in' ? 'in' : 'not in'} (${vals.map(printScalar).join(', ')})`;
  }
  return `${printName(f.field)} ${f.op} ${printScalar(f.value as Scalar)}`;
}

export function printOperand(o: Operand): string {
  if (isRatio(o)) return `${printOperand(o.ratio[0])} / ${printOperand(o.ratio[1])}`;
  if (isAgg(o)) {
    const args = [...(o.measure ? [printName(o.measure)] : []), ...(o.where ?? []).map(printFilter), printWindow(o.window)];
    return `${o.of}.${o.agg}(${args.join(', ')})`;
  }
  return printName(o.field);
}

function prec(r: Rule): number {
  if (isOr(r)) return 1;
  if (isAnd(r)) return 2;
  return 3;
}

export function printRule(r: Rule): string {
  const wrap = (child: Rule, min: number) => {
    const s = printRule(child);
    return prec(child) < min ? `(${s})` : s;
  };
  if (isOr(r)) return r.or.length ? r.or.map((c) => wrap(c, 2)).join(' or ') : '()';
  if (isAnd(r)) return r.and.length ? r.and.map((c) => wrap(c, 3)).join(' and ') : '()';
  if (isNot(r)) return `not ${wrap(r.not, 3)}`;
  if (isAnyProduct(r)) return `any product (${printRule(r.any_product)})`;
  const left = printOperand(r.left);
  switch (r.op) {
    case 'in':
    case 'not_in': {
      const vals = Array.isArray(r.value) ? r.value : [r.value as Scalar];
      return `${left} ${r.op === 'in' ? 'in' : 'not in'} (${vals.map(printScalar).join(', ')})`;
    }
    case 'is_empty':
      return `${left} is empty`;
    case 'is_not_empty':
      return `${left} is not empty`;
    case 'within_next_days':
      return `${left} within next ${r.value} days`;
    case 'within_last_days':
      return `${left} within last ${r.value} days`;
    default:
      return `${left} ${r.op} ${printScalar(r.value as Scalar)}`;
  }
}
