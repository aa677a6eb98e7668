// Normalisers for imported values. Each takes the raw cell text and returns the
// canonical text we load (or throws a RowError whose message is the reason the
// user sees in the error report). Timestamps without an offset are returned
// without one: the load runs with the session time zone set to the
// workspace's, so PostgreSQL interprets them there.

export class RowError extends Error {}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad4 = (n: number) => String(n).padStart(4, '0');

function daysIn(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function checkYmd(y: number, m: number, d: number, raw: string): void {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m)) throw new RowError(`not a valid date: ${raw}`);
}

function checkHms(h: number, mi: number, s: number, raw: string): void {
  if (h > 23 || mi > 59 || s > 60) throw new RowError(`not a valid time of day: ${raw}`);
}

// 2024-01-02, 2024/1/2, 2024.1.2, 2024年1月2日, optionally followed by a time
// (13:05, 13:05:07, 13:05:07.123, T13:05Z, 13:05+08:00, 下午 is not supported).
const DATE_TIME =
  /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:(?:\s+|T)(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:[\sT]?(\d{2})(\d{2})(\d{2})?)?$/;
// 1/2/2024 is ambiguous (US vs. UK); only the year-first forms are accepted.

/**
 * A date and time as 'YYYY-MM-DD HH:MM:SS[.fff][+HH:MM]'. No offset in the
 * input → none in the output (the workspace time zone applies on load).
 */
export function parseDateTime(raw: string): string {
  const s = raw.trim();
  const m = DATE_TIME.exec(s);
  const c = m ? null : COMPACT.exec(s);
  let y: number, mo: number, d: number, h = 0, mi = 0, sec = 0;
  let frac = '';
  let off = '';
  if (m) {
    y = Number(m[1]);
    mo = Number(m[2]);
    d = Number(m[3]);
    if (m[4] !== undefined) {
      h = Number(m[4]);
      mi = Number(m[5]);
      sec = m[6] ? Number(m[6]) : 0;
      frac = m[7] ? `.${m[7]}` : '';
    }
    if (m[8]) off = m[8].toUpperCase() === 'Z' ? '+00:00' : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8];
  } else if (c) {
    y = Number(c[1]);
    mo = Number(c[2]);
    d = Number(c[3]);
    if (c[4] !== undefined) {
      h = Number(c[4]);
      mi = Number(c[5]);
      sec = c[6] ? Number(c[6]) : 0;
    }
  } else {
    throw new RowError(`not a date: ${JSON.stringify(raw)} (use e.g. 2024-01-02, 2024/1/2 13:05, 20240102 or ISO 8601)`);
  }
  checkYmd(y, mo, d, raw);
  checkHms(h, mi, sec, raw);
  return `${pad4(y)}-${pad2(mo)}-${pad2(d)} ${pad2(h)}:${pad2(mi)}:${pad2(sec)}${frac}${off}`;
}

/** A calendar date as 'YYYY-MM-DD' (a time part, if any, is dropped). */
export function parseDate(raw: string): string {
  return parseDateTime(raw).slice(0, 10);
}

/** Excel's serial day number (1900 date system) as a wall-clock 'YYYY-MM-DD HH:MM:SS'. */
export function excelSerialToDateTime(serial: number): string {
  if (!Number.isFinite(serial) || serial < 1 || serial > 2958465) throw new RowError(`not an Excel date: ${serial}`);
  // Day 0 is 1899-12-30 once Excel's phantom 1900-02-29 is accounted for.
  const ms = Math.round((serial - 25569) * 86400 * 1000);
  return wallClock(new Date(ms));
}

/** A Date whose UTC fields hold a wall-clock time (what spreadsheet readers return) as text. */
export function wallClock(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RowError('not a valid date');
  const base = `${pad4(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return ms ? `${base}.${String(ms).padStart(3, '0')}` : base;
}

const CURRENCY = /^(?:¥|￥|rmb|cny|元|\$|usd)|(?:元|rmb|cny)$/gi;

/**
 * A money amount as plain decimal text: "¥1,234.50" → "1234.50". Negative or
 * non-numeric amounts are rejected.
 */
export function parseAmount(raw: string): string {
  let s = raw.trim().replace(/[\s,，_]/g, '');
  s = s.replace(CURRENCY, '');
  s = s.replace(CURRENCY, '');
  if (/^-|^\(.*\)$|^−/.test(s) || /^[¥￥$]?-/.test(s)) throw new RowError(`negative amount: ${raw}`);
  if (s.startsWith('+')) s = s.slice(1);
  if (!/^\d+(?:\.\d+)?$|^\.\d+$/.test(s)) throw new RowError(`not an amount: ${JSON.stringify(raw)}`);
  const n = Number(s);
  if (!Number.isFinite(n) || n >= 1e12) throw new RowError(`amount out of range: ${raw}`);
  return s.startsWith('.') ? `0${s}` : s;
}

/** A non-negative quantity (decimals allowed, e.g. kilograms); zero is rejected. */
export function parseQuantity(raw: string): string {
  const s = raw.trim().replace(/[\s,，]/g, '');
  if (s.startsWith('-')) throw new RowError(`negative quantity: ${raw}`);
  if (!/^\d+(?:\.\d+)?$/.test(s)) throw new RowError(`not a quantity: ${JSON.stringify(raw)}`);
  if (Number(s) <= 0) throw new RowError(`quantity must be more than zero: ${raw}`);
  if (Number(s) >= 1e9) throw new RowError(`quantity out of range: ${raw}`);
  return s;
}

/** An integer within [min, max]. "9.0" is accepted as 9. */
export function parseIntIn(raw: string, min: number, max: number, what: string): string {
  const s = raw.trim();
  if (!/^[+-]?\d+(?:\.0+)?$/.test(s)) throw new RowError(`${what} must be a whole number from ${min} to ${max}: ${JSON.stringify(raw)}`);
  const n = Number.parseInt(s, 10);
  if (n < min || n > max) throw new RowError(`${what} must be from ${min} to ${max}: ${raw}`);
  return String(n);
}

/**
 * Phone numbers in E.164: Chinese mobiles (11 digits starting 1[3-9]) with or
 * without 86/+86/0086 become +86…; Chinese landlines (0 + area code) become
 * +86 without the trunk 0; numbers already in + form are kept.
 */
export function normalizePhone(raw: string): string {
  const s = raw.trim();
  let digits = s.replace(/[\s\-().（）]/g, '');
  const plus = digits.startsWith('+');
  if (plus) digits = digits.slice(1);
  else if (digits.startsWith('00')) digits = digits.slice(2);
  if (!/^\d+$/.test(digits)) throw new RowError(`not a phone number: ${JSON.stringify(raw)}`);
  if (/^1[3-9]\d{9}$/.test(digits)) return `+86${digits}`;
  if (/^861[3-9]\d{9}$/.test(digits)) return `+${digits}`;
  if (!plus && /^0[1-9]\d{8,10}$/.test(digits)) return `+86${digits.slice(1)}`;
  if ((plus || s.startsWith('00')) && /^[1-9]\d{7,14}$/.test(digits)) return `+${digits}`;
  throw new RowError(`not a phone number: ${JSON.stringify(raw)} (expected a Chinese mobile like 13800138000 or an international number like +44 20 7946 0958)`);
}

const EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;.]{2,}$/;

export function normalizeEmail(raw: string): string {
  const s = raw.trim().toLowerCase();
  if (!EMAIL.test(s)) throw new RowError(`not an email address: ${JSON.stringify(raw)}`);
  return s;
}

/** Lower-cased, spaces, underscores and hyphens removed: for matching enum words and headers. */
export function squash(s: string): string {
  return s.trim().toLowerCase().replace(/[\s_\-－]/g, '');
}

/**
 * An enum from its canonical English name or a synonym (Chinese included).
 * `synonyms` maps canonical → words; a value mapped to null means "blank".
 */
export interface EnumParser {
  (raw: string): string | null;
  /** Every word written as listed (canonical names and synonyms): the exact spellings the raw CSV path maps in SQL. */
  readonly words: readonly string[];
}

export function enumParser(what: string, synonyms: Record<string, readonly string[]>): EnumParser {
  const index = new Map<string, string>();
  for (const [canon, words] of Object.entries(synonyms)) {
    index.set(squash(canon), canon);
    for (const w of words) index.set(squash(w), canon);
  }
  const allowed = Object.keys(synonyms).filter((k) => k !== '').join(', ');
  const parse = (raw: string) => {
    const v = index.get(squash(raw));
    if (v === undefined) throw new RowError(`unknown ${what}: ${JSON.stringify(raw)} (expected one of ${allowed})`);
    return v === '' ? null : v;
  };
  const words = Object.entries(synonyms).flatMap(([canon, ws]) => [canon, ...ws]).filter((w) => w !== '');
  return Object.assign(parse, { words });
}

export const parseGender = enumParser('gender', {
  female: ['f', '女', '女性', '女士', 'woman', 'w'],
  male: ['m', '男', '男性', '先生', 'man'],
  other: ['其他', '其它'],
  '': ['未知', 'unknown', '保密', '-', 'n/a', 'na', 'u'],
});

export const parseOrderStatus = enumParser('order status', {
  paid: ['已支付', '已付款', '支付成功', '已完成', '完成', '交易成功', '已发货', '已签收', 'success', 'completed', 'complete', 'done', 'shipped', 'delivered'],
  refunded: ['已退款', '退款', '退款成功', 'refund'],
  returned: ['已退货', '退货', '退货退款', 'return'],
});

export const parseTicketKind = enumParser('ticket type', {
  complaint: ['投诉', '客诉'],
  suggestion: ['建议', '意见', '反馈'],
  inquiry: ['咨询', '询问', '问询', 'question', 'enquiry'],
});

export const parsePriority = enumParser('priority', {
  urgent: ['紧急', '特急', 'p0', 'critical'],
  important: ['重要', '高', 'high', 'p1'],
  general: ['一般', '普通', '中', 'normal', 'medium', 'p2'],
  minor: ['次要', '低', 'low', 'p3'],
});

export const parseTicketStatus = enumParser('ticket status', {
  open: ['待处理', '新建', '未处理', '打开', 'new'],
  pending: ['处理中', '跟进中', '等待', 'in progress', 'inprogress', 'waiting'],
  resolved: ['已解决', '已处理', 'solved'],
  closed: ['已关闭', '关闭', '已完结'],
  reopened: ['重新打开', '重开', 'reopen'],
});

/** A JSON object (for event properties). */
export function parseJsonObject(raw: string): string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new RowError('not valid JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RowError('must be a JSON object like {"key": "value"}');
  return JSON.stringify(v);
}
