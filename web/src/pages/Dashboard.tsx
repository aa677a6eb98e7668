// The dashboard: the KPI board (metric, current, target, 7-day trend, anomaly,
// department — Table 6), the value-tier summary, the latest pipeline run with
// its steps and "Run pipeline now", and the store's entity counts; notices when a
// crash emptied the figures and, for administrators, when the PostgreSQL server's
// settings are too small for the workspace (status' serverAdvice).
import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { usePipeline } from '../analytics/pipeline.ts';
import { useAuth } from '../auth.tsx';
import { type KpiRow, kpiValue, percent, pick, type Report, TIER_COLOURS } from '../analytics/report.ts';
import { Chart } from '../components/Chart.tsx';
import { PipelinePanel, RunPipelineButton } from '../components/PipelinePanel.tsx';
import { ExportButtons } from '../components/ReportTable.tsx';
import { Sparkline } from '../components/Sparkline.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { Status } from '../types.ts';

export function DashboardPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const { me } = useAuth();
  const status = useApi<Status>('/api/status');
  const kpis = useApi<Report<KpiRow>>('/api/reports/kpis');
  const tiers = useApi<Report<TierRow>>('/api/reports/tiers');
  const pipeline = usePipeline();

  // A run this page followed has finished: the figures are new.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on the tick only
  useEffect(() => {
    if (pipeline.finishedTick === 0) return;
    kpis.reload();
    tiers.reload();
    status.reload();
  }, [pipeline.finishedTick]);

  return (
    <section aria-labelledby="page-title">
      <div className="page-head page-head-row">
        <div>
          <h1 id="page-title">{t('nav.dashboard')}</h1>
          <p className="muted">{t('dashboard.subtitleAnalytics')}</p>
        </div>
        <RunPipelineButton p={pipeline} />
      </div>
      {status.data?.figuresLost ? (
        <div className="alert alert-warn" role="status" data-testid="figures-lost">
          {t('dashboard.figuresLost')}
        </div>
      ) : null}
      {status.data && status.data.serverAdvice.length > 0 && me?.user.role === 'admin' ? <ServerAdvice data={status.data} /> : null}
      {status.loading && !status.data ? <Loading /> : null}
      {status.error ? <ErrorState error={status.error} onRetry={status.reload} /> : null}
      {status.data ? (
        <div className="kpi-grid">
          {(['customers', 'orders', 'events', 'tickets'] as const).map((k) => (
            <div className="card kpi" key={k}>
              <div className="kpi-label">{t(`entities.${k}`)}</div>
              <div className="kpi-value" data-testid={`count-${k}`}>
                {f.number(status.data?.counts[k] ?? 0)}
              </div>
            </div>
          ))}
        </div>
      ) : null}
      {status.data?.counts.customers === 0 ? <Empty title={t('dashboard.emptyTitle')}>{t('dashboard.emptyBody')}</Empty> : null}

      <div className="card" data-testid="kpi-board">
        <div className="card-head">
          <h2 className="card-title">{t('kpi.title')}</h2>
          <ExportButtons path="/api/reports/kpis" label={t('kpi.title')} />
        </div>
        <KpiBoard r={kpis} />
      </div>

      <div className="grid-2">
        <div className="card">
          <div className="card-head">
            <h2 className="card-title">{t('tiers.title')}</h2>
            <div className="actions">
              <Link className="btn btn-small btn-ghost" to="/reports">
                {t('dashboard.allReports')}
              </Link>
            </div>
          </div>
          <TierSummary r={tiers} />
        </div>
        <div className="card">
          <h2 className="card-title">{t('pipeline.title')}</h2>
          <PipelinePanel p={pipeline} />
        </div>
      </div>

      {status.data ? <Counts data={status.data} /> : null}
    </section>
  );
}

function KpiBoard({ r }: { r: ReturnType<typeof useApi<Report<KpiRow>>> }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  if (r.error) return <ErrorState error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading />;
  const rows = r.data.rows;
  if (rows.length === 0 || rows.every((k) => k.value === null)) return <Empty title={t('kpi.emptyTitle')}>{t('kpi.emptyBody')}</Empty>;
  return (
    <div className="table-wrap">
      <table className="table table-compact kpi-table">
        <caption className="sr-only">{t('kpi.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('kpi.category')}</th>
            <th scope="col">{t('kpi.metric')}</th>
            <th scope="col" className="num">
              {t('kpi.current')}
            </th>
            <th scope="col" className="num">
              {t('kpi.target')}
            </th>
            <th scope="col">{t('kpi.trend')}</th>
            <th scope="col">{t('kpi.anomaly')}</th>
            <th scope="col">{t('kpi.department')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((k) => {
            const name = pick(lang, k.kpi, k.kpi_zh);
            const ch = k.change_7d === null ? null : Math.abs(k.unit === 'percent' ? k.change_7d * 100 : k.change_7d) < 0.05 ? 0 : k.change_7d;
            const good = ch === null || ch === 0 ? null : (ch < 0) === (k.better === 'lower');
            const arrow = ch === null || ch === 0 ? '' : ch > 0 ? '▲' : '▼';
            const chText = ch === null ? '' : ch === 0 ? '±0' : k.unit === 'percent' ? `${ch > 0 ? '+' : ''}${f.number(ch * 100, 1)} pp` : `${ch > 0 ? '+' : ''}${f.number(ch, 1)}`;
            return (
              <tr key={k.key} className={k.anomaly ? 'row-anomaly' : undefined} data-testid={`kpi-${k.key}`}>
                <td className="muted">{pick(lang, k.category, k.category_zh)}</td>
                <td>{name}</td>
                <td className="num kpi-cell" data-testid="kpi-value">
                  {kpiValue(f, lang, k.unit, k.value)}
                </td>
                <td className="num muted">
                  {k.target === null ? '—' : `${k.better === 'lower' ? '≤' : '≥'} ${kpiValue(f, lang, k.unit, k.target)}`}
                </td>
                <td>
                  <span className="trend">
                    <Sparkline
                      values={k.trend.map((p) => p.value)}
                      label={t('kpi.trendOf', { name })}
                      colour={k.anomaly ? '#b91c1c' : '#0f766e'}
                    />
                    <span className={`small ${good === null ? 'muted' : good ? 'yes' : 'no'}`}>
                      {arrow} {chText}
                    </span>
                  </span>
                </td>
                <td>
                  {k.anomaly ? (
                    <span className="pill pill-failed" title={k.flags}>
                      {k.flags
                        .split(/[\s,]+/)
                        .filter(Boolean)
                        .map((fl) => t(`kpi.flag.${fl}`, { defaultValue: fl }))
                        .join(' · ') || t('kpi.flag.anomaly')}
                    </span>
                  ) : (
                    <span className="pill pill-done">{t('kpi.ok')}</span>
                  )}
                </td>
                <td>{pick(lang, k.department, k.department_zh)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small table-note">{t('kpi.asOf', { day: f.date(rows[0]?.day) })}</p>
    </div>
  );
}

export interface TierRow extends Record<string, unknown> {
  tier: string;
  customers: number;
  share: number;
  spend_share: number;
  avg_score: number | null;
  avg_recency: number | null;
  avg_orders: number;
  avg_spend: number;
  traits: string;
  traits_zh: string;
}

function TierSummary({ r }: { r: ReturnType<typeof useApi<Report<TierRow>>> }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    if (!r.data) return null;
    const rows = r.data.rows;
    return {
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => f.number(v) },
      xAxis: { type: 'value', axisLabel: { color: '#64748b' }, splitLine: { lineStyle: { color: '#eef2f7' } } },
      yAxis: { type: 'category', inverse: true, data: rows.map((x) => tierName(t, x.tier)), axisTick: { show: false }, axisLabel: { color: '#334155' } },
      series: [
        {
          type: 'bar',
          name: t('tiers.customers'),
          data: rows.map((x) => ({ value: x.customers, itemStyle: { color: TIER_COLOURS[x.tier] ?? '#94a3b8', borderRadius: [0, 4, 4, 0] } })),
          barMaxWidth: 22,
          label: { show: true, position: 'right', color: '#475569', formatter: (p: { dataIndex: number }) => percent(lang, rows[p.dataIndex]?.share) },
        },
      ],
    };
  }, [r.data, lang]);
  if (r.error) return <ErrorState error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading />;
  if (r.data.rows.every((x) => x.tier === 'none' || x.customers === 0)) return <Empty title={t('tiers.emptyTitle')}>{t('kpi.emptyBody')}</Empty>;
  return (
    <>
      {option ? <Chart option={option} height={200} label={t('tiers.title')} testId="tier-chart" /> : null}
      <table className="table table-compact" data-testid="tier-summary">
        <caption className="sr-only">{t('tiers.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('tiers.tier')}</th>
            <th scope="col" className="num">
              {t('tiers.customers')}
            </th>
            <th scope="col" className="num">
              {t('tiers.share')}
            </th>
            <th scope="col" className="num">
              {t('tiers.spendShare')}
            </th>
          </tr>
        </thead>
        <tbody>
          {r.data.rows.map((x) => (
            <tr key={x.tier} data-testid={`tier-row-${x.tier}`}>
              <td>
                <TierBadge tier={x.tier} />
              </td>
              <td className="num" data-testid="tier-count">
                {f.number(x.customers)}
              </td>
              <td className="num">{percent(lang, x.share)}</td>
              <td className="num">{percent(lang, x.spend_share)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function tierName(t: (k: string, o?: Record<string, unknown>) => string, tier: string | null | undefined): string {
  if (!tier || tier === 'none') return t('tiers.none');
  return t('tiers.tierX', { tier });
}

export function TierBadge({ tier }: { tier: string | null | undefined }) {
  const { t } = useTranslation();
  const k = tier ?? 'none';
  return (
    <span className={`tier-badge tier-${k}`} title={tierName(t, tier)}>
      {k === 'none' ? t('tiers.none') : k}
    </span>
  );
}

/** PostgreSQL settings too small for a large workspace (status' serverAdvice): for whoever runs the server. */
function ServerAdvice({ data }: { data: Status }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <div className="alert alert-warn" role="status" data-testid="server-advice">
      <strong>{t('dashboard.serverAdviceTitle', { customers: f.number(data.counts.customers ?? 0) })}</strong>
      <p>{t('dashboard.serverAdviceIntro')}</p>
      <ul>
        {data.serverAdvice.map((a) => (
          <li key={a.setting} data-setting={a.setting}>
            {t(`dashboard.serverAdvice_${a.setting}`, { value: a.value, minimum: a.minimum, defaultValue: a.advice })}
          </li>
        ))}
      </ul>
      <p className="small">{t('dashboard.serverAdviceMore')}</p>
    </div>
  );
}

function Counts({ data }: { data: Status }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    const keys = Object.keys(data.counts);
    return {
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => f.number(v) },
      xAxis: {
        type: 'category',
        data: keys.map((k) => t(`entities.${k}`, { defaultValue: k })),
        axisLabel: { interval: 0, color: '#475569' },
        axisTick: { show: false },
      },
      yAxis: { type: 'value', axisLabel: { color: '#64748b', formatter: (v: number) => f.number(v) }, splitLine: { lineStyle: { color: '#eef2f7' } } },
      series: [{ type: 'bar', name: t('dashboard.count'), data: keys.map((k) => data.counts[k]), itemStyle: { color: '#0f766e', borderRadius: [4, 4, 0, 0] }, barMaxWidth: 36 }],
    };
  }, [data, i18n.language]);
  return (
    <div className="grid-2">
      <div className="card">
        <h2 className="card-title">{t('dashboard.countsTitle')}</h2>
        <Chart option={option} height={220} label={t('dashboard.countsTitle')} />
      </div>
      <div className="card">
        <h2 className="card-title">{t('dashboard.lastImport')}</h2>
        {data.lastImport ? (
          <p>
            <span className={`pill pill-${data.lastImport.status}`}>{t(`runStatus.${data.lastImport.status}`, { defaultValue: data.lastImport.status })}</span>{' '}
            {t(`entities.${data.lastImport.entity}`, { defaultValue: data.lastImport.entity })} · {data.lastImport.fileName}
            <span className="muted small"> · {f.dateTime(data.lastImport.finishedAt)}</span>
          </p>
        ) : (
          <p className="muted">{t('dashboard.noImport')}</p>
        )}
        <p className="muted small">
          <Link to="/customers">{t('dashboard.browseCustomers')}</Link>
        </p>
      </div>
    </div>
  );
}
