// A report's rows as a table, with CSV and XLSX downloads of the same figures
// (the report endpoint with ?format=…&lang=<current language>).
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { exportUrl, type ReportColumn, useCell } from '../analytics/report.ts';

export function ExportButtons({ path, label }: { path: string; label: string }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="actions">
      {(['csv', 'xlsx'] as const).map((fmt) => (
        <a key={fmt} className="btn btn-small" href={exportUrl(path, fmt, i18n.language)} download data-testid={`export-${fmt}`} aria-label={`${t('analytics.exportOf', { name: label })} (${fmt.toUpperCase()})`}>
          {t(`analytics.export.${fmt}`)}
        </a>
      ))}
    </div>
  );
}

export interface TableColumn<R> {
  key: string;
  label: string;
  type?: ReportColumn['type'];
  /** Custom rendering; the default formats row[key] by type. */
  render?: (row: R) => ReactNode;
}

export function DataTable<R extends Record<string, unknown>>({
  columns,
  rows,
  caption,
  testId,
  rowKey,
}: {
  columns: TableColumn<R>[];
  rows: R[];
  caption: string;
  testId?: string;
  rowKey?: (r: R, i: number) => string;
}) {
  const { fmt } = useCell();
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.type && c.type !== 'date' ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey ? rowKey(r, i) : i}>
              {columns.map((c) => (
                <td key={c.key} className={c.type && c.type !== 'date' ? 'num' : undefined}>
                  {c.render ? c.render(r) : fmt(c.type, r[c.key])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Columns of a report in the current language, optionally leaving some out. */
export function reportColumns<R>(columns: ReportColumn[], lang: string, skip: string[] = []): TableColumn<R>[] {
  return columns
    .filter((c) => !skip.includes(c.key))
    .map((c) => ({ key: c.key, label: lang.startsWith('zh') ? c.zh : c.en, ...(c.type ? { type: c.type } : {}) }));
}
