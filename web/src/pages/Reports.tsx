// Reports: value tiers (Table 1), the RFM grid as a heatmap and the named RFM
// segments, lifecycle stages and transitions, cohort retention as a heatmap
// (purchases or any activity) and the retention evaluation by period and tier
// (Table 5). Every table downloads as CSV or XLSX in the current language.
import { type ReactNode, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { percent, pick, type Report, useCell } from '../analytics/report.ts';
import { Chart } from '../components/Chart.tsx';
import { DataTable, ExportButtons, reportColumns, type TableColumn } from '../components/ReportTable.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { type Loaded, useApi } from '../hooks.ts';
import { TierBadge, type TierRow } from './Dashboard.tsx';

type Row = Record<string, unknown>;

export function ReportsPage() {
  const { t } = useTranslation();
  const sections = ['tiers', 'rfm', 'lifecycle', 'cohorts', 'retention'] as const;
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{t('nav.reports')}</h1>
        <p className="muted">{t('reports.subtitle')}</p>
      </div>
      <nav className="tabs" aria-label={t('reports.sections')}>
        {sections.map((s) => (
          <a key={s} href={`#${s}`} className="tab-link">
            {t(`reports.section.${s}`)}
          </a>
        ))}
      </nav>
      <TiersSection />
      <RfmSection />
      <LifecycleSection />
      <CohortSection />
      <RetentionSection />
    </section>
  );
}

/** A card for one report: title, switches, downloads, and loading/error/empty states. */
function ReportCard<R>({
  id,
  title,
  path,
  r,
  controls,
  empty,
  children,
}: {
  id?: string;
  title: string;
  path: string;
  r: Loaded<Report<R>>;
  controls?: ReactNode;
  empty?: ReactNode;
  children: (rep: Report<R>) => ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <div className="card" id={id} data-testid={id ? `report-${id}` : undefined}>
      <div className="card-head">
        <h2 className="card-title">{title}</h2>
        <div className="actions">
          {controls}
          <ExportButtons path={path} label={title} />
        </div>
      </div>
      {r.error ? (
        <ErrorState error={r.error} onRetry={r.reload} />
      ) : !r.data ? (
        <Loading />
      ) : r.data.rows.length === 0 ? (
        (empty ?? <Empty title={t('reports.emptyTitle')}>{t('kpi.emptyBody')}</Empty>)
      ) : (
        children(r.data)
      )}
    </div>
  );
}

export function Toggle<V extends string>({ value, options, onChange, label }: { value: V; options: readonly { value: V; label: string }[]; onChange: (v: V) => void; label: string }) {
  return (
    <fieldset className="seg-toggle" aria-label={label} style={{ margin: 0 }}>
      {options.map((o) => (
        <button key={o.value} type="button" aria-pressed={value === o.value} onClick={() => onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </fieldset>
  );
}

function TiersSection() {
  const { t, i18n } = useTranslation();
  const r = useApi<Report<TierRow>>('/api/reports/tiers');
  const lang = i18n.language;
  return (
    <ReportCard id="tiers" title={t('tiers.title')} path="/api/reports/tiers" r={r}>
      {(rep) => (
        <DataTable<TierRow>
          caption={t('tiers.title')}
          testId="tiers-table"
          rowKey={(x) => x.tier}
          rows={rep.rows}
          columns={[
            { key: 'tier', label: t('tiers.tier'), render: (x) => <TierBadge tier={x.tier} /> },
            ...reportColumns<TierRow>(rep.columns, lang, ['tier', 'traits', 'traits_zh']),
            { key: 'traits', label: t('tiers.traits'), render: (x) => <span className="muted">{pick(lang, x.traits, x.traits_zh)}</span> },
          ]}
        />
      )}
    </ReportCard>
  );
}

interface RfmCell extends Row {
  r_score: number;
  f_score: number;
  customers: number;
  avg_monetary: number | null;
}

function RfmSection() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  const r = useApi<Report<RfmCell>>('/api/reports/rfm');
  const seg = useApi<Report<Row>>('/api/reports/segments');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    if (!r.data?.rows.length) return null;
    const rows = r.data.rows;
    const max = Math.max(...rows.map((x) => x.customers));
    const byKey = new Map(rows.map((x) => [`${x.f_score}-${x.r_score}`, x]));
    return {
      grid: { left: 56, right: 24, top: 10, bottom: 100 },
      tooltip: {
        formatter: (p: { value: [number, number, number] }) => {
          const [fi, ri, n] = p.value;
          const c = byKey.get(`${fi + 1}-${ri + 1}`);
          return `R ${ri + 1} · F ${fi + 1}<br/>${t('analytics.customers')}: <b>${f.number(n)}</b><br/>${t('reports.rfm.avgSpend')}: <b>${f.money(c?.avg_monetary ?? null)}</b>`;
        },
      },
      xAxis: { type: 'category', name: t('reports.rfm.fAxis'), nameLocation: 'middle', nameGap: 28, data: ['1', '2', '3', '4', '5'], splitArea: { show: true } },
      yAxis: { type: 'category', name: t('reports.rfm.rAxis'), nameLocation: 'middle', nameGap: 36, data: ['1', '2', '3', '4', '5'], splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: max || 1,
        calculable: true,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 160,
        inRange: { color: ['#f0fdfa', '#5eead4', '#0f766e', '#134e4a'] },
        formatter: (v: number) => f.number(v),
      },
      series: [
        {
          type: 'heatmap',
          name: t('analytics.customers'),
          data: rows.map((x) => ({ value: [x.f_score - 1, x.r_score - 1, x.customers], label: { color: x.customers > max * 0.6 ? '#fff' : '#0f172a' } })),
          label: { show: true, formatter: (p: { value: [number, number, number] }) => f.number(p.value[2]) },
          emphasis: { itemStyle: { borderColor: '#0f172a', borderWidth: 1 } },
        },
      ],
    };
  }, [r.data, lang]);
  return (
    <div className="grid-2" id="rfm">
      <ReportCard title={t('reports.rfm.title')} path="/api/reports/rfm" r={r}>
        {() => (
          <>
            {option ? <Chart option={option} height={380} label={t('reports.rfm.title')} testId="rfm-heatmap" /> : null}
            <p className="muted small">{t('reports.rfm.note')}</p>
          </>
        )}
      </ReportCard>
      <ReportCard title={t('reports.segments.title')} path="/api/reports/segments" r={seg}>
        {(rep) => (
          <DataTable<Row>
            caption={t('reports.segments.title')}
            testId="rfm-segments"
            rowKey={(x) => String(x.segment)}
            rows={rep.rows}
            columns={[
              { key: 'segment', label: t('reports.segments.segment'), render: (x) => t(`rfmSegment.${x.segment}`, { defaultValue: String(x.name ?? x.segment) }) },
              ...reportColumns<Row>(rep.columns, lang, ['segment', 'name']),
            ]}
          />
        )}
      </ReportCard>
    </div>
  );
}

function LifecycleSection() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  const r = useApi<Report<Row>>('/api/reports/lifecycle');
  const tr = useApi<Report<Row>>('/api/reports/transitions');
  const stage = (s: unknown) => t(`lifecycle.${String(s)}`, { defaultValue: String(s) });
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    if (!r.data?.rows.length) return null;
    const rows = r.data.rows;
    const colours: Record<string, string> = { prospect: '#94a3b8', new: '#22c55e', growing: '#0ea5e9', mature: '#0f766e', at_risk: '#f59e0b', dormant: '#f97316', churned: '#dc2626' };
    return {
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => f.number(v) },
      xAxis: { type: 'value', splitLine: { lineStyle: { color: '#eef2f7' } } },
      yAxis: { type: 'category', inverse: true, data: rows.map((x) => stage(x.stage)), axisTick: { show: false } },
      series: [
        {
          type: 'bar',
          name: t('analytics.customers'),
          barMaxWidth: 22,
          data: rows.map((x) => ({ value: x.customers, itemStyle: { color: colours[String(x.stage)] ?? '#64748b', borderRadius: [0, 4, 4, 0] } })),
          label: { show: true, position: 'right', formatter: (p: { dataIndex: number }) => percent(lang, rows[p.dataIndex]?.share as number) },
        },
      ],
    };
  }, [r.data, lang]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const sankey = useMemo(() => {
    const rows = tr.data?.rows ?? [];
    if (!rows.length) return null;
    const from = (s: unknown) => `${stage(s)} ·`;
    const to = (s: unknown) => `→ ${stage(s)}`;
    const names = new Set<string>();
    for (const x of rows) {
      names.add(from(x.from_stage));
      names.add(to(x.to_stage));
    }
    return {
      tooltip: { trigger: 'item', valueFormatter: (v: number) => f.number(v) },
      series: [
        {
          type: 'sankey',
          left: 8,
          right: 90,
          nodeGap: 10,
          emphasis: { focus: 'adjacency' },
          lineStyle: { color: 'gradient', opacity: 0.35 },
          label: { color: '#334155' },
          data: [...names].map((name) => ({ name })),
          links: rows.map((x) => ({ source: from(x.from_stage), target: to(x.to_stage), value: x.customers })),
        },
      ],
    };
  }, [tr.data, lang]);
  return (
    <div className="grid-2" id="lifecycle">
      <ReportCard title={t('reports.lifecycle.title')} path="/api/reports/lifecycle" r={r}>
        {(rep) => (
          <>
            {option ? <Chart option={option} height={260} label={t('reports.lifecycle.title')} testId="lifecycle-chart" /> : null}
            <DataTable<Row>
              caption={t('reports.lifecycle.title')}
              rowKey={(x) => String(x.stage)}
              rows={rep.rows}
              columns={[{ key: 'stage', label: t('reports.lifecycle.stage'), render: (x) => stage(x.stage) }, ...reportColumns<Row>(rep.columns, lang, ['stage', 'name'])]}
            />
          </>
        )}
      </ReportCard>
      <ReportCard
        title={t('reports.transitions.title')}
        path="/api/reports/transitions"
        r={tr}
        empty={<Empty title={t('reports.transitions.emptyTitle')}>{t('reports.transitions.emptyBody')}</Empty>}
      >
        {(rep) => (
          <>
            {sankey ? <Chart option={sankey} height={300} label={t('reports.transitions.title')} testId="transitions-sankey" /> : null}
            <details>
              <summary className="small muted">{t('reports.transitions.asTable', { n: rep.rows.length })}</summary>
            <DataTable<Row>
              caption={t('reports.transitions.title')}
              rows={rep.rows}
              columns={[
                { key: 'from_stage', label: t('reports.transitions.from'), render: (x) => stage(x.from_stage) },
                { key: 'to_stage', label: t('reports.transitions.to'), render: (x) => stage(x.to_stage) },
                { key: 'customers', label: t('analytics.customers'), type: 'number' },
              ]}
            />
            </details>
          </>
        )}
      </ReportCard>
    </div>
  );
}

interface CohortCell extends Row {
  cohort: string;
  month: number;
  cohort_size: number;
  retained: number;
  rate: number;
}

function CohortSection() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  const [basis, setBasis] = useState<'purchase' | 'activity'>('purchase');
  const path = `/api/reports/cohorts?basis=${basis}`;
  const r = useApi<Report<CohortCell>>(path);
  const grid = useMemo(() => {
    const rows = r.data?.rows ?? [];
    const cohorts = [...new Set(rows.map((x) => x.cohort))].sort();
    const months = Math.max(0, ...rows.map((x) => x.month));
    const size = new Map(rows.map((x) => [x.cohort, x.cohort_size]));
    const rate = new Map(rows.map((x) => [`${x.cohort}|${x.month}`, x]));
    return { rows, cohorts, months, size, rate };
  }, [r.data]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    if (!grid.rows.length) return null;
    const xs = Array.from({ length: grid.months + 1 }, (_, i) => String(i));
    return {
      grid: { left: 8, right: 16, top: 10, bottom: 70, containLabel: true },
      tooltip: {
        formatter: (p: { value: [number, number, number] }) => {
          const c = grid.cohorts[p.value[1]] ?? '';
          const cellRow = grid.rate.get(`${c}|${p.value[0]}`);
          return `${c} · ${t('reports.cohorts.monthN', { n: p.value[0] })}<br/>${t('reports.cohorts.rate')}: <b>${percent(lang, p.value[2])}</b><br/>${t('reports.cohorts.retained')}: ${f.number(cellRow?.retained)} / ${f.number(cellRow?.cohort_size)}`;
        },
      },
      xAxis: { type: 'category', name: t('reports.cohorts.monthsAfter'), nameLocation: 'middle', nameGap: 26, data: xs, splitArea: { show: true } },
      yAxis: { type: 'category', inverse: true, data: grid.cohorts, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: 1,
        calculable: true,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 200,
        inRange: { color: ['#fff7ed', '#fdba74', '#0d9488', '#134e4a'] },
        formatter: (v: number) => percent(lang, v, 0),
      },
      series: [
        {
          type: 'heatmap',
          name: t('reports.cohorts.rate'),
          data: grid.rows.filter((x) => x.month > 0).map((x) => ({ value: [x.month, grid.cohorts.indexOf(x.cohort), x.rate], label: { color: x.rate > 0.55 ? '#fff' : '#334155' } })),
          label: { show: grid.months <= 12, fontSize: 10, formatter: (p: { value: [number, number, number] }) => percent(lang, p.value[2], 0) },
        },
      ],
    };
  }, [grid, lang]);
  const picks = [1, 3, 6, 12].filter((m) => m <= grid.months);
  return (
    <ReportCard
      id="cohorts"
      title={t('reports.cohorts.title')}
      path={path}
      r={r}
      controls={
        <Toggle
          label={t('reports.cohorts.basis')}
          value={basis}
          onChange={(v) => setBasis(v)}
          options={[
            { value: 'purchase', label: t('reports.cohorts.purchase') },
            { value: 'activity', label: t('reports.cohorts.activity') },
          ]}
        />
      }
    >
      {() => (
        <>
          {option ? <Chart option={option} height={Math.max(300, grid.cohorts.length * 22 + 110)} label={t('reports.cohorts.title')} testId="cohort-heatmap" /> : null}
          <p className="muted small">{t(`reports.cohorts.note.${basis}`)}</p>
          <DataTable<{ cohort: string } & Row>
            caption={t('reports.cohorts.title')}
            testId="cohort-table"
            rowKey={(x) => x.cohort}
            rows={[...grid.cohorts].reverse().map((c) => ({ cohort: c }))}
            columns={[
              { key: 'cohort', label: t('reports.cohorts.cohort') },
              { key: 'size', label: t('reports.cohorts.size'), type: 'number', render: (x) => f.number(grid.size.get(x.cohort)) },
              ...picks.map((m) => ({
                key: `m${m}`,
                label: t('reports.cohorts.monthN', { n: m }),
                type: 'percent' as const,
                render: (x: { cohort: string }) => percent(lang, grid.rate.get(`${x.cohort}|${m}`)?.rate ?? null),
              })),
            ]}
          />
        </>
      )}
    </ReportCard>
  );
}

function RetentionSection() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { fmt } = useCell();
  const [period, setPeriod] = useState<'month' | 'quarter'>('month');
  const path = `/api/reports/retention?period=${period}&periods=6`;
  const r = useApi<Report<Row>>(path);
  return (
    <ReportCard
      id="retention"
      title={t('reports.retention.title')}
      path={path}
      r={r}
      controls={
        <Toggle
          label={t('reports.retention.period')}
          value={period}
          onChange={(v) => setPeriod(v)}
          options={[
            { value: 'month', label: t('reports.retention.month') },
            { value: 'quarter', label: t('reports.retention.quarter') },
          ]}
        />
      }
      empty={<Empty title={t('reports.retention.emptyTitle')}>{t('reports.retention.emptyBody')}</Empty>}
    >
      {(rep) => (
        <>
          <DataTable<Row>
            caption={t('reports.retention.title')}
            testId="retention-table"
            rows={rep.rows}
            columns={([
              ...reportColumns<Row>(rep.columns, lang, ['tier', 'gap']),
              { key: 'tier', label: t('tiers.tier'), render: (x: Row) => <TierBadge tier={String(x.tier)} /> },
              {
                key: 'gap',
                label: t('reports.retention.gap'),
                type: 'percent',
                render: (x: Row) => <span className={typeof x.gap === 'number' ? (x.gap < 0 ? 'no' : 'yes') : 'muted'}>{fmt('percent', x.gap)}</span>,
              },
            ] as TableColumn<Row>[]).sort((a, b) => order(a.key) - order(b.key))}
          />
          <p className="muted small table-note">{t('reports.retention.note')}</p>
        </>
      )}
    </ReportCard>
  );
}

const RETENTION_ORDER = ['period', 'tier', 'start_count', 'end_count', 'retained', 'rate', 'target', 'gap'];
function order(k: string): number {
  const i = RETENTION_ORDER.indexOf(k);
  return i < 0 ? 99 : i;
}

