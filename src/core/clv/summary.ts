// From raw transactions to the per-customer RFM summary the CLV models are fitted on,
// as in Fader & Hardie's papers and lifetimes: purchases are collapsed to calendar days;
// frequency = days with a purchase after the first; recency = first → last purchase day;
// T = first purchase → end of calibration; monetary = mean daily spend of the repeat days.
// Customers whose first purchase falls after the calibration end are left out.
import type { RfmData } from './types.ts';

export type TimeUnit = 'days' | 'weeks';

export interface SummaryOptions {
  /** Last day of the calibration period (inclusive): 'YYYY-MM-DD' or a Date (its UTC day). */
  calibrationEnd: string | Date;
  /** Last day of the holdout period (inclusive); when given, holdout counts are computed. */
  observationEnd?: string | Date;
  timeUnit?: TimeUnit;
  customerIdField?: string;
  dateField?: string;
  /** Without it, monetary values are 0. */
  amountField?: string;
}

export interface CustomerSummary extends RfmData {
  ids: string[];
  /** Mean daily spend of the repeat purchase days (0 when frequency is 0). */
  monetary: Float64Array;
  /** All spend in the calibration period, the first purchase included (historical value). */
  totalSpend: Float64Array;
  timeUnit: TimeUnit;
  calibrationEnd: string;
  holdout?: {
    observationEnd: string;
    /** Length of the holdout in timeUnit. */
    duration: number;
    /** Days with a purchase in the holdout. */
    frequency: Float64Array;
    /** Mean daily spend in the holdout (0 without purchases). */
    monetary: Float64Array;
  };
}

/** Columnar transactions: day = days since 1970-01-01 (UTC). */
export interface TransactionColumns {
  ids: string[];
  days: Int32Array | Float64Array;
  amounts?: Float64Array;
}

const DAY_MS = 86_400_000;

/** Day number of 'YYYY-MM-DD', 'YYYYMMDD', an ISO timestamp (its UTC date) or a Date; NaN when unreadable. */
export function dayNumber(v: unknown): number {
  if (v instanceof Date) return Math.floor(v.getTime() / DAY_MS);
  if (typeof v === 'number') return Number.NaN;
  const s = String(v ?? '').trim();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[T ])/.exec(s);
  if (!m) m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) m = /^(\d{4})\/(\d{1,2})\/(\d{1,2})(?:$| )/.exec(s);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN;
    const t = Date.UTC(y, mo - 1, d);
    // Reject 2023-02-30 and the like.
    if (new Date(t).getUTCDate() !== d) return Number.NaN;
    if (s.length > 10 && /[T ]\d/.test(s) && /(Z|[+-]\d\d:?\d\d)$/.test(s)) {
      const full = Date.parse(s);
      return Number.isNaN(full) ? Number.NaN : Math.floor(full / DAY_MS);
    }
    return Math.floor(t / DAY_MS);
  }
  return Number.NaN;
}

export function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Summary from transaction records (objects with id, date and optional amount fields). */
export function summarize(transactions: readonly Record<string, unknown>[], opts: SummaryOptions): CustomerSummary {
  const idField = opts.customerIdField ?? 'customer_id';
  const dateField = opts.dateField ?? 'date';
  const amountField = opts.amountField;
  const n = transactions.length;
  const ids: string[] = new Array(n);
  const days = new Float64Array(n);
  const amounts = amountField ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const t = transactions[i]!;
    const id = t[idField];
    if (id === undefined || id === null || id === '') throw new Error(`transaction ${i + 1}: no ${idField}`);
    ids[i] = String(id);
    const d = dayNumber(t[dateField]);
    if (Number.isNaN(d)) throw new Error(`transaction ${i + 1}: ${dateField} "${String(t[dateField])}" is not a date (YYYY-MM-DD)`);
    days[i] = d;
    if (amounts) {
      const a = Number(t[amountField!]);
      if (!Number.isFinite(a)) throw new Error(`transaction ${i + 1}: ${amountField} "${String(t[amountField!])}" is not a number`);
      amounts[i] = a;
    }
  }
  return summarizeColumns({ ids, days, amounts }, opts);
}

export function summarizeColumns(tx: TransactionColumns, opts: SummaryOptions): CustomerSummary {
  const unit = opts.timeUnit ?? 'weeks';
  const per = unit === 'weeks' ? 7 : 1;
  const calEnd = dayNumber(opts.calibrationEnd);
  if (Number.isNaN(calEnd)) throw new Error(`calibration end "${String(opts.calibrationEnd)}" is not a date`);
  const obsEnd = opts.observationEnd === undefined ? calEnd : dayNumber(opts.observationEnd);
  if (Number.isNaN(obsEnd)) throw new Error(`observation end "${String(opts.observationEnd)}" is not a date`);
  if (obsEnd < calEnd) throw new Error('the observation end must not be before the calibration end');
  const n = tx.ids.length;
  // Customer index per transaction, in order of first appearance.
  const index = new Map<string, number>();
  const cust = new Int32Array(n);
  const custIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = tx.ids[i]!;
    let c = index.get(id);
    if (c === undefined) {
      c = custIds.length;
      index.set(id, c);
      custIds.push(id);
    }
    cust[i] = c;
  }
  // Sort transactions by (customer, day).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => cust[i]! - cust[j]! || tx.days[i]! - tx.days[j]!);

  const m = custIds.length;
  const first = new Float64Array(m).fill(Number.NaN);
  const calDays = new Float64Array(m);
  const lastCal = new Float64Array(m);
  const repeatSpend = new Float64Array(m);
  const total = new Float64Array(m);
  const hoDays = new Float64Array(m);
  const hoSpend = new Float64Array(m);
  let prevCust = -1;
  let prevDay = Number.NaN;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const c = cust[i]!;
    const d = tx.days[i]!;
    if (d > obsEnd) continue;
    const amt = tx.amounts ? tx.amounts[i]! : 0;
    const newDay = c !== prevCust || d !== prevDay;
    if (c !== prevCust) first[c] = d;
    prevCust = c;
    prevDay = d;
    if (first[c]! > calEnd) continue; // first purchase after calibration: not part of this cohort
    if (d <= calEnd) {
      total[c] = total[c]! + amt;
      if (newDay) {
        calDays[c] = calDays[c]! + 1;
        lastCal[c] = d;
      }
      if (d !== first[c]) repeatSpend[c] = repeatSpend[c]! + amt;
    } else {
      if (newDay) hoDays[c] = hoDays[c]! + 1;
      hoSpend[c] = hoSpend[c]! + amt;
    }
  }
  const keep: number[] = [];
  for (let c = 0; c < m; c++) if (first[c]! <= calEnd) keep.push(c);
  const k = keep.length;
  const out: CustomerSummary = {
    ids: keep.map((c) => custIds[c]!),
    frequency: new Float64Array(k),
    recency: new Float64Array(k),
    T: new Float64Array(k),
    monetary: new Float64Array(k),
    totalSpend: new Float64Array(k),
    timeUnit: unit,
    calibrationEnd: dayToIso(calEnd),
  };
  const ho = opts.observationEnd !== undefined;
  const hoFreq = ho ? new Float64Array(k) : undefined;
  const hoMon = ho ? new Float64Array(k) : undefined;
  for (let j = 0; j < k; j++) {
    const c = keep[j]!;
    const f = calDays[c]! - 1;
    out.frequency[j] = f;
    out.recency[j] = (lastCal[c]! - first[c]!) / per;
    out.T[j] = (calEnd - first[c]!) / per;
    out.monetary[j] = f > 0 ? repeatSpend[c]! / f : 0;
    out.totalSpend[j] = total[c]!;
    if (hoFreq && hoMon) {
      hoFreq[j] = hoDays[c]!;
      hoMon[j] = hoDays[c]! > 0 ? hoSpend[c]! / hoDays[c]! : 0;
    }
  }
  if (hoFreq && hoMon) out.holdout = { observationEnd: dayToIso(obsEnd), duration: (obsEnd - calEnd) / per, frequency: hoFreq, monetary: hoMon };
  return out;
}
