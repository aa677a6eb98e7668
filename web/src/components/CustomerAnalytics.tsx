// Customer 360, analytics part: value tier, RFM scores and segment, lifecycle
// stage, tags and segments, indicators from customer_metrics (as of the last
// pipeline run), and churn risk with its drivers.
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { percent, pick } from '../analytics/report.ts';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import { TierBadge } from '../pages/Dashboard.tsx';
import { Empty, Loading } from './States.tsx';

interface Metrics {
  as_of: string;
  tier: string | null;
  rfm_segment: string | null;
  lifecycle_stage: string | null;
  stage_since: string | null;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  rfm_score: number | null;
  recency_days: number | null;
  orders_window: number;
  spend_window: number;
  orders_90d: number;
  orders_prev_90d: number;
  events_30d: number;
  logins_30d: number;
  core_uses_30d: number;
  complaints_total: number;
  complaints_90d: number;
  csat_avg: number | null;
  last_nps: number | null;
  referrals: number;
  aov: number | null;
  coupon_share: number | null;
  refund_rate: number | null;
  frequency_change: number | null;
  active: boolean;
}

interface Tag {
  id: string;
  kind: string;
  name: string;
  name_zh: string | null;
  since: string;
}

interface Risk {
  scored: boolean;
  message?: string;
  scored_at?: string;
  probability?: number | null;
  tier?: 'high' | 'medium' | 'low';
  tier_source?: 'model' | 'scorecard';
  drivers?: { text: string; rank: number }[];
  scorecard?: { points: number; level: string; indicators: { indicator: string; points: number; text: string }[] };
}

export function CustomerAnalytics({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  const enc = encodeURIComponent(id);
  const m = useApi<{ metrics: Metrics | null }>(`/api/customers/${enc}/metrics`);
  const tags = useApi<{ items: Tag[] }>(`/api/customers/${enc}/tags`);
  const risk = useApi<Risk>(`/api/customers/${enc}/risk?lang=${lang.startsWith('zh') ? 'zh-CN' : 'en'}`);
  const x = m.data?.metrics ?? null;

  return (
    <div className="grid-3" data-testid="customer-analytics">
      <div className="card">
        <h2 className="card-title">{t('c360a.value')}</h2>
        {!m.data && !m.error ? <Loading /> : null}
        {m.error ? <p className="muted">{m.error.message}</p> : null}
        {m.data && !x ? <Empty title={t('c360a.notAnalysed')}>{t('kpi.emptyBody')}</Empty> : null}
        {x ? (
          <>
            <div className="trend" style={{ gap: 16, marginBottom: 12 }}>
              <div>
                <div className="kpi-label">{t('tiers.tier')}</div>
                <div style={{ fontSize: 20 }} data-testid="c360-tier">
                  <TierBadge tier={x.tier} />
                </div>
              </div>
              <div>
                <div className="kpi-label">{t('c360a.rfmScore')}</div>
                <div className="kpi-value" style={{ fontSize: 20 }}>
                  {f.number(x.rfm_score, 1)}
                </div>
              </div>
              <div>
                <div className="kpi-label">R · F · M</div>
                <div className="kpi-value mono" style={{ fontSize: 18 }} data-testid="c360-rfm">
                  {x.r_score ?? '—'} · {x.f_score ?? '—'} · {x.m_score ?? '—'}
                </div>
              </div>
            </div>
            <dl className="facts">
              <dt>{t('c360a.rfmSegment')}</dt>
              <dd>{x.rfm_segment ? t(`rfmSegment.${x.rfm_segment}`, { defaultValue: x.rfm_segment }) : '—'}</dd>
              <dt>{t('c360a.stage')}</dt>
              <dd data-testid="c360-stage">
                {x.lifecycle_stage ? t(`lifecycle.${x.lifecycle_stage}`, { defaultValue: x.lifecycle_stage }) : '—'}
                {x.stage_since ? <span className="muted small"> · {t('c360a.since', { date: f.date(x.stage_since) })}</span> : null}
              </dd>
              <dt>{t('c360a.recency')}</dt>
              <dd>{x.recency_days === null ? '—' : t('c360a.days', { n: f.number(x.recency_days) })}</dd>
              <dt>{t('c360a.tags')}</dt>
              <dd>
                {tags.data?.items.length ? (
                  <span className="tag-list" data-testid="c360-tags">
                    {tags.data.items.map((g) => (
                      <Link key={g.id} to={`/segments?id=${encodeURIComponent(g.id)}`} className={`tag${g.kind === 'segment' ? ' tag-seg' : ''}`} title={t('c360a.since', { date: f.date(g.since) })}>
                        {pick(lang, g.name, g.name_zh)}
                      </Link>
                    ))}
                  </span>
                ) : (
                  <span className="muted">{tags.data ? t('c360a.noTags') : '…'}</span>
                )}
              </dd>
            </dl>
            <p className="muted small" style={{ marginBottom: 0 }}>
              {t('c360a.asOf', { at: f.dateTime(x.as_of) })}
            </p>
          </>
        ) : null}
      </div>
      <div className="card">
        <h2 className="card-title">{t('c360a.indicators')}</h2>
        {x ? (
          <dl className="facts" data-testid="c360-indicators">
            <dt>{t('c360a.activity')}</dt>
            <dd>
              <span className={`pill ${x.active ? 'pill-done' : 'pill-skipped'}`}>{x.active ? t('c360a.active') : t('c360a.inactive')}</span>{' '}
              <span className="muted small">{t('c360a.activityDetail', { events: f.number(x.events_30d), logins: f.number(x.logins_30d) })}</span>
            </dd>
            <dt>{t('c360a.frequency')}</dt>
            <dd>
              {t('c360a.orders90', { n: f.number(x.orders_90d), prev: f.number(x.orders_prev_90d) })}
              {x.frequency_change !== null ? (
                <span className={`small ${x.frequency_change < 0 ? 'no' : 'yes'}`}>
                  {' '}
                  {x.frequency_change > 0 ? '▲' : x.frequency_change < 0 ? '▼' : ''} {percent(lang, Math.abs(x.frequency_change), 0)}
                </span>
              ) : null}
            </dd>
            <dt>{t('c360a.aov')}</dt>
            <dd>{f.money(x.aov)}</dd>
            <dt>{t('c360a.spendWindow')}</dt>
            <dd>
              {f.money(x.spend_window)} <span className="muted small">· {t('c360a.ordersN', { n: f.number(x.orders_window) })}</span>
            </dd>
            <dt>{t('c360a.couponShare')}</dt>
            <dd>{percent(lang, x.coupon_share, 0)}</dd>
            <dt>{t('c360a.refundRate')}</dt>
            <dd>{percent(lang, x.refund_rate, 0)}</dd>
            <dt>{t('c360a.complaints')}</dt>
            <dd>{t('c360a.complaintsDetail', { total: f.number(x.complaints_total), recent: f.number(x.complaints_90d) })}</dd>
            <dt>{t('c360a.satisfaction')}</dt>
            <dd>
              CSAT {f.number(x.csat_avg, 1)} · NPS {f.number(x.last_nps)}
            </dd>
            <dt>{t('c360a.referrals')}</dt>
            <dd>{f.number(x.referrals)}</dd>
          </dl>
        ) : m.data || m.error ? (
          <p className="muted">—</p>
        ) : (
          <Loading />
        )}
      </div>
      <div className="card" data-testid="c360-risk">
        <h2 className="card-title">{t('c360a.risk')}</h2>
        {risk.error ? (
          <p className="muted">{risk.error.status === 404 ? t('c360a.riskNotYet') : risk.error.message}</p>
        ) : !risk.data ? (
          <Loading />
        ) : !risk.data.scored ? (
          <p className="muted">{risk.data.message}</p>
        ) : (
          <>
            <p style={{ margin: '0 0 8px' }}>
              <span className={`pill pill-${risk.data.tier}`}>{t(`risk.tier.${risk.data.tier}`)}</span>{' '}
              {risk.data.probability !== null && risk.data.probability !== undefined ? (
                <span className="kpi-value" style={{ fontSize: 20 }}>
                  {percent(lang, risk.data.probability)}
                </span>
              ) : null}
              <span className="muted small"> · {t(`risk.source.${risk.data.tier_source}`)}</span>
            </p>
            {risk.data.drivers?.length ? (
              <>
                <div className="kpi-label">{t('risk.drivers')}</div>
                <ol className="drivers">
                  {risk.data.drivers.slice(0, 5).map((d) => (
                    <li key={d.rank}>{d.text}</li>
                  ))}
                </ol>
              </>
            ) : null}
            {risk.data.scorecard ? (
              <>
                <div className="kpi-label" style={{ marginTop: 8 }}>
                  {t('risk.scorecard', { points: f.number(risk.data.scorecard.points) })}
                </div>
                <ul className="drivers small">
                  {risk.data.scorecard.indicators
                    .filter((b) => b.points > 0)
                    .slice(0, 5)
                    .map((b) => (
                      <li key={b.indicator}>
                        {b.text} <span className="muted">+{f.number(b.points)}</span>
                      </li>
                    ))}
                </ul>
              </>
            ) : null}
            <p className="muted small" style={{ marginBottom: 0 }}>
              {t('c360a.asOf', { at: f.dateTime(risk.data.scored_at) })}
            </p>
          </>
        )}
      </div>
    </div>
  );
}
