// Churn models: every version with its metrics (ROC-AUC, PR-AUC, log loss,
// Brier), and for the chosen one the lift/gains chart, calibration plot,
// feature importance, tree rules and candidates vs. baselines; admins and
// analysts can activate a version. The CLV backtest shows when its API exists.
import type { EChartsCoreOption } from 'echarts/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { percent } from '../analytics/report.ts';
import { ApiError, api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { Chart } from '../components/Chart.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import { ComingSoon } from './ComingSoon.tsx';

interface Scores {
  name: string;
  rocAuc: number | null;
  prAuc: number | null;
  logLoss: number | null;
  brier: number | null;
  truthRocAuc?: number | null;
}

interface ModelRow {
  id: number;
  version: number;
  algorithm: string;
  rows: number;
  trained_at: string;
  trained_by: string | null;
  active: boolean;
  selected: Scores | null;
  baselines: Scores[];
  beats_baselines: boolean | null;
  test_cutoff: string | null;
}

interface ModelDetail {
  id: number;
  version: number;
  algorithm: string;
  metrics: {
    lift?: { decile: number; lift: number; cumulativeGain: number; cumulativeLift: number; rate: number }[];
    calibration?: { bin: number; observedRate: number; meanPredicted: number; rows: number }[];
    calibrationBefore?: { bin: number; observedRate: number; meanPredicted: number }[];
    importance?: Record<string, { items: { feature: string; value: number }[] }>;
    candidates?: Scores[];
    baselines?: Scores[];
    selected?: Scores;
    rows?: { test: number; train: number };
    horizonDays?: number;
  };
  rules: { node: number; text: string; count: number; probability: number }[] | null;
  features: { key: string; description: string }[];
}

const TRAINERS = ['admin', 'analyst'];

/** The scores every model table shows, in this order. */
const METRICS = ['rocAuc', 'prAuc', 'logLoss', 'brier'] as const;

function MetricHeads() {
  const { t } = useTranslation();
  return METRICS.map((k) => (
    <th key={k} scope="col" className="num">
      {t(`models.${k}`)}
    </th>
  ));
}

function MetricCells({ scores }: { scores: Scores | null | undefined }) {
  const f = useFormat();
  return METRICS.map((k) => (
    <td key={k} className="num">
      {f.number(scores?.[k] ?? null, 3)}
    </td>
  ));
}

/** A card with its title and chart, or a dash when there is nothing to chart. */
function ChartCard({ title, option, height, testId }: { title: string; option: EChartsCoreOption | null; height: number; testId: string }) {
  return (
    <div className="card">
      <h2 className="card-title">{title}</h2>
      {option ? <Chart option={option} height={height} label={title} testId={testId} /> : <p className="muted">—</p>}
    </div>
  );
}

export function ModelsPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const { me } = useAuth();
  const list = useApi<{ models: ModelRow[] }>('/api/models');
  const [picked, setPicked] = useState<number | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  if (list.error?.status === 404) return <ComingSoon area="models" />;
  const models = list.data?.models ?? [];
  const current = models.find((m) => m.id === picked) ?? models.find((m) => m.active) ?? models[0] ?? null;
  const canActivate = me ? TRAINERS.includes(me.user.role) : false;

  const activate = async (m: ModelRow) => {
    setErr(null);
    setMsg(null);
    try {
      await api(`/api/models/${m.id}/activate`, { method: 'POST' });
      setMsg(t('models.activated', { v: m.version }));
      list.reload();
    } catch (e) {
      setErr(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
    }
  };

  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{t('nav.models')}</h1>
        <p className="muted">{t('models.subtitle')}</p>
      </div>
      {list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {!list.data && !list.error ? <Loading /> : null}
      {list.data && models.length === 0 ? (
        <div className="card">
          <Empty title={t('models.emptyTitle')}>{t('models.emptyBody')}</Empty>
        </div>
      ) : null}
      {models.length ? (
        <div className="card table-card">
          <div className="card-head" style={{ padding: '12px 16px 0' }}>
            <h2 className="card-title">{t('models.versions')}</h2>
          </div>
          <div className="table-wrap">
            <table className="table" data-testid="models-table">
              <caption className="sr-only">{t('models.versions')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('models.version')}</th>
                  <th scope="col">{t('models.algorithm')}</th>
                  <MetricHeads />
                  <th scope="col">{t('models.trainedAt')}</th>
                  <th scope="col">{t('common.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={m.id} className={current?.id === m.id ? 'row-selected' : undefined}>
                    <td>
                      v{m.version} {m.active ? <span className="pill pill-done">{t('models.active')}</span> : null}
                    </td>
                    <td>
                      {m.algorithm}{' '}
                      {m.beats_baselines !== null ? <span className={`small ${m.beats_baselines ? 'yes' : 'no'}`}>· {m.beats_baselines ? t('models.beats') : t('models.notBeats')}</span> : null}
                    </td>
                    <MetricCells scores={m.selected} />
                    <td>{f.dateTime(m.trained_at)}</td>
                    <td>
                      <div className="actions">
                        <button type="button" className="btn btn-small" onClick={() => setPicked(m.id)} aria-pressed={current?.id === m.id}>
                          {t('models.details')}
                        </button>
                        {canActivate && !m.active ? (
                          <button type="button" className="btn btn-small btn-primary" onClick={() => void activate(m)}>
                            {t('models.activate')}
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {msg ? <div className="alert alert-ok" style={{ margin: 12 }}>{msg}</div> : null}
          {err ? <div className="alert alert-error" style={{ margin: 12 }}>{err.message}</div> : null}
        </div>
      ) : null}
      {current ? <ModelDetails id={current.id} /> : null}
      <ClvBacktest />
      <Clusters />
    </section>
  );
}

function ModelDetails({ id }: { id: number }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language.startsWith('zh') ? 'zh-CN' : 'en';
  const r = useApi<ModelDetail>(`/api/models/${id}?lang=${lang}`);
  const d = r.data;
  const featureName = useMemo(() => new Map((d?.features ?? []).map((x) => [x.key, x.description])), [d]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const liftOption = useMemo(() => {
    const lift = d?.metrics.lift;
    if (!lift?.length) return null;
    const xs = lift.map((x) => `${x.decile * 10}%`);
    return {
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => f.number(v, 2) },
      xAxis: { type: 'category', data: xs, name: t('models.decile'), nameLocation: 'middle', nameGap: 24 },
      yAxis: [
        { type: 'value', name: t('models.gains'), max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
        { type: 'value', name: t('models.liftLabel'), splitLine: { show: false } },
      ],
      series: [
        { type: 'line', name: t('models.gains'), data: lift.map((x) => x.cumulativeGain), smooth: true, itemStyle: { color: '#0f766e' }, areaStyle: { opacity: 0.08 } },
        { type: 'line', name: t('models.perfect'), data: lift.map((x) => Math.min(1, (x.decile * 10) / 100)), lineStyle: { type: 'dashed', color: '#94a3b8' }, itemStyle: { color: '#94a3b8' }, symbol: 'none' },
        { type: 'bar', name: t('models.liftLabel'), yAxisIndex: 1, data: lift.map((x) => x.lift), itemStyle: { color: '#93c5fd' }, barMaxWidth: 18 },
      ],
    };
  }, [d, i18n.language]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const calOption = useMemo(() => {
    const cal = d?.metrics.calibration;
    if (!cal?.length) return null;
    return {
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'item', formatter: (p: { seriesName: string; value: [number, number] }) => `${p.seriesName}<br/>${t('models.predicted')}: ${f.number(p.value[0], 3)}<br/>${t('models.observed')}: ${f.number(p.value[1], 3)}` },
      xAxis: { type: 'value', min: 0, max: 1, name: t('models.predicted'), nameLocation: 'middle', nameGap: 24 },
      yAxis: { type: 'value', min: 0, max: 1, name: t('models.observed') },
      series: [
        { type: 'line', name: t('models.perfect'), data: [[0, 0], [1, 1]], symbol: 'none', lineStyle: { type: 'dashed', color: '#94a3b8' }, itemStyle: { color: '#94a3b8' } },
        { type: 'line', name: t('models.calibration'), data: cal.map((x) => [x.meanPredicted, x.observedRate]), itemStyle: { color: '#0f766e' } },
      ],
    };
  }, [d, i18n.language]);
  const importance = useMemo(() => {
    const imp = d?.metrics.importance;
    if (!imp) return null;
    const key = d?.metrics.selected?.name ?? d?.algorithm ?? '';
    const items = (imp[key] ?? Object.values(imp)[0])?.items ?? [];
    const top = items.slice(0, 12).reverse();
    return {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => f.number(v, 3) },
      xAxis: { type: 'value', splitLine: { lineStyle: { color: '#eef2f7' } } },
      yAxis: { type: 'category', data: top.map((x) => featureName.get(x.feature) ?? x.feature), axisLabel: { width: 220, overflow: 'truncate' } },
      series: [{ type: 'bar', name: t('models.importance'), data: top.map((x) => x.value), itemStyle: { color: '#0f766e', borderRadius: [0, 4, 4, 0] }, barMaxWidth: 16 }],
    };
  }, [d, featureName, f, t]);
  if (r.error) return <ErrorState error={r.error} onRetry={r.reload} />;
  if (!d) return <Loading />;
  const rows = [...(d.metrics.candidates ?? []).map((c) => ({ ...c, kind: 'candidate' })), ...(d.metrics.baselines ?? []).map((c) => ({ ...c, kind: 'baseline' }))];
  return (
    <div data-testid="model-details">
      <div className="grid-2">
        <ChartCard title={t('models.lift')} option={liftOption} height={300} testId="lift-chart" />
        <ChartCard title={t('models.calibration')} option={calOption} height={300} testId="calibration-chart" />
      </div>
      <div className="grid-2">
        <ChartCard title={t('models.importance')} option={importance} height={360} testId="importance-chart" />
        <div className="card">
          <h2 className="card-title">{t('models.candidates')}</h2>
          <table className="table table-compact">
            <caption className="sr-only">{t('models.candidates')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('models.algorithm')}</th>
                <MetricHeads />
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={`${c.kind}-${c.name}`}>
                  <td>
                    {c.name} {c.kind === 'baseline' ? <span className="badge">baseline</span> : null}
                    {c.name === d.metrics.selected?.name && c.kind === 'candidate' ? <span className="pill pill-done">✓</span> : null}
                  </td>
                  <MetricCells scores={c} />
                </tr>
              ))}
            </tbody>
          </table>
          <h2 className="card-title" style={{ marginTop: 16 }}>
            {t('models.rules')}
          </h2>
          {d.rules?.length ? (
            <ol className="drivers small" data-testid="tree-rules" style={{ maxHeight: 260, overflow: 'auto' }}>
              {d.rules.slice(0, 12).map((x) => (
                <li key={x.node}>{x.text}</li>
              ))}
            </ol>
          ) : (
            <p className="muted">{t('models.noRules')}</p>
          )}
        </div>
      </div>
    </div>
  );
}

interface ClvBacktestAnswer {
  fit: { model: string; as_of: string; customers: number; log_likelihood: number };
  backtest: {
    calibrationEnd?: string;
    holdoutEnd?: string;
    groups?: { frequency: string; customers: number; actualMean: number; predictedMean: number }[];
    totals?: { customers: number; actual: number; predicted: number; errorPercent: number };
    meanAbsoluteError?: number;
  } | null;
}

/** The CLV model's holdout backtest (mean purchases per customer in the holdout, predicted vs. actual, by calibration frequency). */
function ClvBacktest() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const r = useApi<ClvBacktestAnswer>('/api/clv/backtest');
  const b = r.data?.backtest ?? null;
  const groups = b?.groups ?? [];
  // biome-ignore lint/correctness/useExhaustiveDependencies: the formatter follows the language
  const option = useMemo(
    () => ({
      grid: { left: 8, right: 8, top: 36, bottom: 24, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => f.number(v, 2) },
      xAxis: { type: 'category', name: t('models.frequencyGroup'), nameLocation: 'middle', nameGap: 24, data: groups.map((g) => g.frequency) },
      yAxis: { type: 'value' },
      series: [
        { type: 'bar', name: t('models.clvActual'), data: groups.map((g) => g.actualMean), itemStyle: { color: '#94a3b8' }, barMaxWidth: 22 },
        { type: 'bar', name: t('models.clvPredicted'), data: groups.map((g) => g.predictedMean), itemStyle: { color: '#0f766e' }, barMaxWidth: 22 },
      ],
    }),
    [groups, i18n.language],
  );
  if (r.error || !groups.length || !b) return null;
  return (
    <div className="card" data-testid="clv-backtest-card">
      <h2 className="card-title">{t('models.clvBacktest')}</h2>
      <p className="muted small">
        {t('models.clvBacktestNote', {
          model: r.data!.fit.model === 'bgnbd' ? 'BG/NBD' : 'Pareto/NBD',
          from: f.date(b.calibrationEnd),
          to: f.date(b.holdoutEnd),
        })}
      </p>
      <Chart option={option} height={280} label={t('models.clvBacktest')} testId="clv-backtest" />
      {b.totals ? (
        <p className="small" data-testid="clv-backtest-totals">
          {t('models.clvTotals', {
            actual: f.number(b.totals.actual),
            predicted: f.number(b.totals.predicted, 1),
            error: `${b.totals.errorPercent >= 0 ? '+' : ''}${f.number(b.totals.errorPercent, 1)}%`,
            mae: f.number(b.meanAbsoluteError ?? null, 3),
          })}
        </p>
      ) : null}
    </div>
  );
}

interface ClusterAnswer {
  k: number;
  silhouette: number | null;
  customers: number;
  as_of: string | null;
  profiles: { cluster: number; size: number; share: number; label: { en: string; zh: string }; description: { en: string; zh: string } }[];
}

/** The latest behavioural clusters: k (by silhouette) and each cluster's size and profile in words. */
function Clusters() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const r = useApi<ClusterAnswer>('/api/clusters');
  if (r.error || !r.data || r.data.k === 0) return null;
  const zh = i18n.language.startsWith('zh');
  return (
    <div className="card table-card" data-testid="clusters">
      <h2 className="card-title" style={{ padding: '12px 12px 0' }}>
        {t('models.clusters', { k: r.data.k, silhouette: f.number(r.data.silhouette, 3) })}
      </h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t('models.cluster')}</th>
            <th scope="col" className="num">
              {t('models.clusterSize')}
            </th>
            <th scope="col">{t('models.clusterProfile')}</th>
          </tr>
        </thead>
        <tbody>
          {r.data.profiles.map((p) => (
            <tr key={p.cluster}>
              <td>{zh ? p.label.zh : p.label.en}</td>
              <td className="num">
                {f.number(p.size)} ({percent(i18n.language, p.share)})
              </td>
              <td style={{ whiteSpace: 'normal' }}>{zh ? p.description.zh : p.description.en}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
