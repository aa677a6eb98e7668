// The JSON form back to the text form: parseRule(printRule(r)) gives r again.
import { ATTRIBUTE_PREFIX, CONSENT_PREFIX, FIELDS, PROPERTY_PREFIX, SOURCE_DEFS } from './fields.ts';
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

// ---- The explanation for people: what a rule means, in English or Chinese, without SQL.

export type Lang = 'en' | 'zh-CN';

const OP_WORDS: Record<string, { en: string; zh: string }> = {
  '=': { en: 'is', zh: '等于' },
  '!=': { en: 'is not', zh: '不等于' },
  '>': { en: 'is more than', zh: '大于' },
  '>=': { en: 'is at least', zh: '大于等于' },
  '<': { en: 'is less than', zh: '小于' },
  '<=': { en: 'is at most', zh: '小于等于' },
  in: { en: 'is one of', zh: '属于' },
  not_in: { en: 'is none of', zh: '不属于' },
};

function fieldLabel(name: string, lang: Lang): string {
  const zh = lang === 'zh-CN';
  if (name.startsWith(ATTRIBUTE_PREFIX)) return zh ? `自定义属性「${name.slice(ATTRIBUTE_PREFIX.length)}」` : `attribute "${name.slice(ATTRIBUTE_PREFIX.length)}"`;
  if (name.startsWith(CONSENT_PREFIX)) {
    const [ch, p] = name.slice(CONSENT_PREFIX.length).split('.');
    return zh ? `${ch} 渠道「${p}」授权` : `consent to ${p} by ${ch}`;
  }
  const f = FIELDS.get(name);
  return f ? (zh ? f.zh : f.en) : name;
}

function windowWords(w: Window, lang: Lang): string {
  if ('this' in w) return lang === 'zh-CN' ? '本月' : 'this month';
  return lang === 'zh-CN' ? `近 ${w.last_days} 天` : `in the last ${w.last_days} days`;
}

function valueWords(v: Scalar | Scalar[] | undefined): string {
  if (Array.isArray(v)) return v.map((x) => printScalar(x)).join(', ');
  return v === undefined ? '' : printScalar(v);
}

function operandWords(o: Operand, lang: Lang): string {
  const zh = lang === 'zh-CN';
  if (isRatio(o)) return zh ? `${operandWords(o.ratio[0], lang)} 与 ${operandWords(o.ratio[1], lang)} 之比` : `${operandWords(o.ratio[0], lang)} per ${operandWords(o.ratio[1], lang)}`;
  if (isAgg(o)) {
    const src = SOURCE_DEFS[o.of];
    const filters = (o.where ?? []).map((f) => {
      const label = f.field.startsWith(PROPERTY_PREFIX)
        ? f.field.slice(PROPERTY_PREFIX.length)
        : zh
          ? (src.filters.get(f.field)?.zh ?? f.field)
          : (src.filters.get(f.field)?.en ?? f.field);
      const w = OP_WORDS[f.op]!;
      return `${label} ${zh ? w.zh : w.en} ${valueWords(f.value)}`;
    });
    const measure = o.measure ? (src.measures[o.measure]?.[zh ? 'zh' : 'en'] ?? o.measure.replace(PROPERTY_PREFIX, '')) : '';
    const fnEn: Record<string, string> = { count: 'number of', sum: 'total', avg: 'average', max: 'largest', min: 'smallest' };
    const fnZh: Record<string, string> = { count: '数量', sum: '合计', avg: '平均', max: '最大', min: '最小' };
    const paid = o.of === 'orders' && !(o.where ?? []).some((f) => f.field === 'status');
    if (zh) {
      const what = `${windowWords(o.window, lang)}${paid ? '已支付' : ''}${src.zh}${filters.length ? `（${filters.join('，')}）` : ''}`;
      return o.agg === 'count' ? `${what}${fnZh.count}` : `${what}${measure}${fnZh[o.agg]}`;
    }
    const rows = `${paid ? 'paid ' : ''}${src.en}${filters.length ? ` where ${filters.join(' and ')}` : ''}`;
    return o.agg === 'count' ? `the number of ${rows} ${windowWords(o.window, lang)}` : `the ${fnEn[o.agg]} ${measure} of ${rows} ${windowWords(o.window, lang)}`;
  }
  return fieldLabel(o.field, lang);
}

/** The rule in words: "value tier is "D" and lifecycle stage is one of "at_risk", "dormant"". */
export function explainRule(r: Rule, lang: Lang = 'en'): string {
  const zh = lang === 'zh-CN';
  const wrap = (child: Rule, min: number) => (prec(child) < min ? `(${explainRule(child, lang)})` : explainRule(child, lang));
  if (isOr(r)) return r.or.map((c) => wrap(c, 2)).join(zh ? ' 或 ' : ' or ');
  if (isAnd(r)) return r.and.map((c) => wrap(c, 3)).join(zh ? ' 且 ' : ' and ');
  if (isNot(r)) return zh ? `并非 ${wrap(r.not, 3)}` : `not ${wrap(r.not, 3)}`;
  if (isAnyProduct(r)) return zh ? `存在某个商品满足：${explainRule(r.any_product, lang)}` : `for some product: ${explainRule(r.any_product, lang)}`;
  const left = operandWords(r.left, lang);
  switch (r.op) {
    case 'is_empty':
      return zh ? `${left}为空` : `${left} is empty`;
    case 'is_not_empty':
      return zh ? `${left}不为空` : `${left} is not empty`;
    case 'within_next_days':
      return zh ? `${left}在未来 ${r.value} 天内` : `${left} falls within the next ${r.value} days`;
    case 'within_last_days':
      return zh ? `${left}在过去 ${r.value} 天内` : `${left} fell within the last ${r.value} days`;
    default: {
      const w = OP_WORDS[r.op]!;
      return `${left} ${zh ? w.zh : w.en} ${valueWords(r.value)}`;
    }
  }
}
