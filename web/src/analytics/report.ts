// Named reports (GET /api/reports/:name) as the web app reads them: every table
// shows the same rows the CSV/XLSX downloads and the CLI give.
import { useTranslation } from 'react-i18next';
import { type Formatter, useFormat } from '../format.ts';

export interface ReportColumn {
  key: string;
  en: string;
  zh: string;
  type?: 'number' | 'percent' | 'money' | 'date';
}

export interface Report<R = Record<string, unknown>> {
  name: string;
  title: { en: string; zh: string };
  columns: ReportColumn[];
  rows: R[];
  meta?: Record<string, unknown>;
}

export interface KpiRow {
  key: string;
  category: string;
  category_zh: string;
  kpi: string;
  kpi_zh: string;
  unit: 'percent' | 'number' | 'score' | string;
  better: 'lower' | 'higher';
  value: number | null;
  target: number | null;
  change_7d: number | null;
  trend: { day: string; value: number | null }[];
  anomaly: boolean;
  flags: string;
  department: string;
  department_zh: string;
  day: string;
}

export interface StepState {
  name: string;
  title: { en: string; zh: string };
  status: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  progress?: { done: number; total: number; note?: string };
  result?: Record<string, unknown>;
  error?: string;
}

export interface PipelineRun {
  id: number;
  kind: string;
  status: 'running' | 'done' | 'failed';
  started_at: string;
  finished_at: string | null;
  as_of: string | null;
  steps: StepState[];
  error: string | null;
}

export interface Job {
  id: number;
  task: string;
  status: 'queued' | 'running' | 'done' | 'failed' | string;
  created_at: string;
  finished_at: string | null;
  progress: { done?: number; total?: number; current?: string | null } | null;
  last_error: string | null;
  result: { runId?: number } | null;
}

export function isZh(lang: string): boolean {
  return lang.startsWith('zh');
}

/** A { en, zh } pair, or a row's `x` / `x_zh` fields, in the current language. */
export function pick(lang: string, en: string | null | undefined, zh: string | null | undefined): string {
  return (isZh(lang) ? zh || en : en || zh) ?? '';
}

export function percent(locale: string, v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(v);
}

/** One cell by its column type. */
export function cell(f: Formatter, locale: string, type: ReportColumn['type'], v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number') {
    if (type === 'percent') return percent(locale, v);
    if (type === 'money') return f.money(v);
    return f.number(v, 1);
  }
  if (type === 'date') return f.date(String(v));
  return String(v);
}

export function useCell() {
  const { i18n } = useTranslation();
  const f = useFormat();
  return { f, lang: i18n.language, fmt: (type: ReportColumn['type'], v: unknown) => cell(f, i18n.language, type, v) };
}

/** The download URL of a report (or any exportable list) in the current language. */
export function exportUrl(path: string, format: 'csv' | 'xlsx', lang: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}format=${format}&lang=${encodeURIComponent(lang)}`;
}

/** A KPI value by its unit: percentages as %, NPS as a score, counts as numbers. */
export function kpiValue(f: Formatter, locale: string, unit: string, v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (unit === 'percent') return percent(locale, v);
  if (unit === 'score') return f.number(v, 1);
  return f.number(v, 1);
}

export const TIER_COLOURS: Record<string, string> = { A: '#0f766e', B: '#2563eb', C: '#d97706', D: '#dc2626', none: '#94a3b8' };
