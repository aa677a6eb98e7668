// A decision tree's leaves as sentences, in English and zh-CN:
// "If days since last purchase > 62 and complaints ≥ 2 then churn probability 0.81 (n = 340)".
import { type FeatureInfo, formatDateDays } from './prep.ts';
import type { TreeNodes } from './tree.ts';

export type Lang = 'en' | 'zh-CN';

export interface Rule {
  /** the leaf */
  node: number;
  probability: number;
  count: number;
  text: string;
}

interface Bound {
  lo?: number; // x > lo
  hi?: number; // x ≤ hi
  missing?: boolean; // true: must be missing; false: must be present
}

function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2).replace(/0$/, '') : v.toPrecision(2);
}

function describe(info: FeatureInfo, b: Bound, lang: Lang): string[] {
  const zh = lang === 'zh-CN';
  const name = info.source;
  if (info.kind === 'level' || info.kind === 'other' || info.kind === 'missing') {
    // 0/1 indicators: > 0.5 means set
    const on = b.lo !== undefined && b.lo >= 0;
    const what = info.kind === 'missing' ? (zh ? '缺失' : 'is blank') : info.kind === 'other' ? (zh ? '为其他值' : 'is another value') : zh ? `为 ${info.level}` : `is ${info.level}`;
    const not = info.kind === 'missing' ? (zh ? '不缺失' : 'is not blank') : info.kind === 'other' ? (zh ? '不为其他值' : 'is not another value') : zh ? `不为 ${info.level}` : `is not ${info.level}`;
    return [`${name} ${on ? what : not}`];
  }
  const out: string[] = [];
  if (info.date) {
    // a day count: after / on or before a date
    if (b.lo !== undefined) out.push(zh ? `${name} 晚于 ${formatDateDays(b.lo)}` : `${name} after ${formatDateDays(b.lo)}`);
    if (b.hi !== undefined) out.push(zh ? `${name} 不晚于 ${formatDateDays(b.hi)}` : `${name} on or before ${formatDateDays(b.hi)}`);
    if (b.missing === true) out.push(zh ? `${name} 缺失` : `${name} is blank`);
    return out;
  }
  const int = info.integer;
  const gt = (v: number) => (int && Number.isInteger(v) ? `≥ ${num(v + 1)}` : `> ${num(v)}`);
  if (b.lo !== undefined && b.hi !== undefined) {
    out.push(int && Number.isInteger(b.lo) && b.hi === b.lo + 1 ? `${name} = ${num(b.hi)}` : `${num(b.lo)} < ${name} ≤ ${num(b.hi)}`);
  } else if (b.lo !== undefined) out.push(`${name} ${gt(b.lo)}`);
  else if (b.hi !== undefined) out.push(`${name} ≤ ${num(b.hi)}`);
  if (b.missing === true) out.push(zh ? `${name} 缺失` : `${name} is blank`);
  if (b.missing === false && (b.lo !== undefined || b.hi !== undefined) && out.length === 0) out.push(zh ? `${name} 不缺失` : `${name} is not blank`);
  return out;
}

/**
 * One rule per leaf, most likely outcome first. `features` names the columns
 * (from prep); `outcome` names the positive class ("churn").
 */
export function treeRules(t: TreeNodes, features: FeatureInfo[] | string[], lang: Lang = 'en', outcome = lang === 'zh-CN' ? '流失' : 'churn'): Rule[] {
  const infos: FeatureInfo[] = features.map((f) => (typeof f === 'string' ? { name: f, source: f, kind: 'numeric' as const } : f));
  const rules: Rule[] = [];
  const walk = (n: number, bounds: Map<number, Bound>, order: number[]) => {
    const f = t.feature[n]!;
    if (f < 0) {
      const parts = order.flatMap((j) => describe(infos[j]!, bounds.get(j)!, lang));
      const p = t.value[n]!;
      const cond = parts.length ? parts.join(lang === 'zh-CN' ? ' 且 ' : ' and ') : lang === 'zh-CN' ? '所有客户' : 'always';
      const text =
        lang === 'zh-CN'
          ? `如果 ${cond}，则${outcome}概率为 ${p.toFixed(2)}（n = ${t.count[n]}）`
          : `If ${cond} then ${outcome} probability ${p.toFixed(2)} (n = ${t.count[n]})`;
      rules.push({ node: n, probability: p, count: t.count[n]!, text });
      return;
    }
    const thr = t.threshold[n]!;
    for (const side of ['left', 'right'] as const) {
      const next = new Map(bounds);
      const b: Bound = { ...(next.get(f) ?? {}) };
      if (side === 'left') b.hi = b.hi === undefined ? thr : Math.min(b.hi, thr);
      else b.lo = b.lo === undefined ? thr : Math.max(b.lo, thr);
      next.set(f, b);
      walk(side === 'left' ? t.left[n]! : t.right[n]!, next, order.includes(f) ? order : [...order, f]);
    }
  };
  walk(0, new Map(), []);
  return rules.sort((a, b) => b.probability - a.probability || b.count - a.count);
}
