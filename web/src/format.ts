// Dates, numbers and money in the current language, with Intl. Dates show in
// the workspace's time zone; money in its currency (¥ for CNY in both languages).
import { useTranslation } from 'react-i18next';
import { useAuth } from './auth.tsx';

export interface Formatter {
  date(iso: string | null | undefined): string;
  dateTime(iso: string | null | undefined): string;
  number(n: number | null | undefined, digits?: number): string;
  money(n: number | null | undefined): string;
  /** "3 days ago" style, for the last run. */
  relative(iso: string | null | undefined, now?: Date): string;
}

const DASH = '—';

export function makeFormatter(locale: string, timeZone: string | undefined, currency: string): Formatter {
  const tz = timeZone && isValidTimeZone(timeZone) ? timeZone : undefined;
  const dateFmt = new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: tz });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZone: tz,
  });
  const moneyFmt = new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'CNY', currencyDisplay: 'narrowSymbol' });
  const rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const parse = (iso: string | null | undefined) => {
    if (!iso) return null;
    // A bare date (YYYY-MM-DD) is a calendar day, not midnight UTC.
    const d = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00Z`) : new Date(iso);
    return Number.isNaN(d.getTime()) ? null : d;
  };
  return {
    date: (iso) => {
      const d = parse(iso);
      return d ? dateFmt.format(d) : DASH;
    },
    dateTime: (iso) => {
      const d = parse(iso);
      return d ? dateTimeFmt.format(d) : DASH;
    },
    number: (n, digits = 0) =>
      n === null || n === undefined || Number.isNaN(n)
        ? DASH
        : new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n),
    money: (n) => (n === null || n === undefined || Number.isNaN(n) ? DASH : moneyFmt.format(n)),
    relative: (iso, now = new Date()) => {
      const d = parse(iso);
      if (!d) return DASH;
      const s = (d.getTime() - now.getTime()) / 1000;
      const abs = Math.abs(s);
      if (abs < 60) return rel.format(Math.round(s), 'second');
      if (abs < 3600) return rel.format(Math.round(s / 60), 'minute');
      if (abs < 86400) return rel.format(Math.round(s / 3600), 'hour');
      return rel.format(Math.round(s / 86400), 'day');
    },
  };
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function useFormat(): Formatter {
  const { i18n } = useTranslation();
  const { me } = useAuth();
  return makeFormatter(i18n.language, me?.workspace.time_zone, me?.workspace.currency ?? 'CNY');
}
