// A report is a titled table: the CLI prints it (table, CSV, JSON), the API
// serves it as JSON or a CSV/XLSX download, and the web app renders it — all
// from the same rows, so every surface shows the same figures.
export interface ReportColumn {
  key: string;
  en: string;
  zh: string;
  type?: 'number' | 'percent' | 'money' | 'date';
}

export interface Report {
  name: string;
  title: { en: string; zh: string };
  columns: ReportColumn[];
  rows: Record<string, unknown>[];
  /** Anything a chart needs beyond the rows (e.g. heatmap axes). */
  meta?: Record<string, unknown>;
}
