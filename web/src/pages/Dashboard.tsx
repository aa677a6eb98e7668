// For now: the real entity counts from /api/status and the last import and
// pipeline run. KPIs, tiers and reports arrive with the analytics release.
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Chart } from '../components/Chart.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import type { Status } from '../types.ts';

export function DashboardPage() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const { data, error, loading, reload } = useApi<Status>('/api/status');

  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(() => {
    if (!data) return null;
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
      series: [
        {
          type: 'bar',
          name: t('dashboard.count'),
          data: keys.map((k) => data.counts[k]),
          itemStyle: { color: '#0f766e', borderRadius: [4, 4, 0, 0] },
          barMaxWidth: 36,
        },
      ],
    };
  }, [data, t, i18n.language]);

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{t('nav.dashboard')}</h1>
        <p className="muted">{t('dashboard.subtitle')}</p>
      </div>
      {loading && !data ? <Loading /> : null}
      {error ? <ErrorState error={error} onRetry={reload} /> : null}
      {data ? (
        <>
          <div className="kpi-grid">
            {(['customers', 'orders', 'events', 'tickets'] as const).map((k) => (
              <div className="card kpi" key={k}>
                <div className="kpi-label">{t(`entities.${k}`)}</div>
                <div className="kpi-value" data-testid={`count-${k}`}>
                  {f.number(data.counts[k] ?? 0)}
                </div>
              </div>
            ))}
          </div>
          <div className="grid-2">
            <div className="card">
              <h2 className="card-title">{t('dashboard.countsTitle')}</h2>
              {option ? <Chart option={option} label={t('dashboard.countsTitle')} /> : null}
            </div>
            <div className="card">
              <h2 className="card-title">{t('dashboard.runsTitle')}</h2>
              <dl className="facts">
                <dt>{t('dashboard.lastImport')}</dt>
                <dd>
                  {data.lastImport ? (
                    <>
                      <span className={`pill pill-${data.lastImport.status}`}>{t(`runStatus.${data.lastImport.status}`, { defaultValue: data.lastImport.status })}</span>{' '}
                      {t(`entities.${data.lastImport.entity}`, { defaultValue: data.lastImport.entity })} · {data.lastImport.fileName}
                      <div className="muted small">{f.dateTime(data.lastImport.finishedAt)}</div>
                    </>
                  ) : (
                    <span className="muted">{t('dashboard.noImport')}</span>
                  )}
                </dd>
                <dt>{t('dashboard.lastPipeline')}</dt>
                <dd>
                  {data.lastPipelineRun ? (
                    <>
                      <span className={`pill pill-${data.lastPipelineRun.status}`}>
                        {t(`runStatus.${data.lastPipelineRun.status}`, { defaultValue: data.lastPipelineRun.status })}
                      </span>{' '}
                      #{data.lastPipelineRun.id}
                      <div className="muted small">
                        {f.dateTime(data.lastPipelineRun.startedAt)} → {f.dateTime(data.lastPipelineRun.finishedAt)}
                      </div>
                    </>
                  ) : (
                    <span className="muted">{t('dashboard.noPipeline')}</span>
                  )}
                </dd>
              </dl>
              {data.counts.customers === 0 ? (
                <Empty title={t('dashboard.emptyTitle')}>{t('dashboard.emptyBody')}</Empty>
              ) : (
                <p className="muted small">
                  <Link to="/customers">{t('dashboard.browseCustomers')}</Link>
                </p>
              )}
            </div>
          </div>
          <div className="card note">{t('dashboard.analyticsNote')}</div>
        </>
      ) : null}
    </section>
  );
}
