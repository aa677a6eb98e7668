// Customer 360, prediction part: predicted lifetime value (P(alive), expected
// purchases, expected spend, 12-month CLV), the behavioural cluster, and the
// next-best products (due for repurchase, the usual next step, bought together),
// all as of the last pipeline run.
import { useTranslation } from 'react-i18next';
import { percent } from '../analytics/report.ts';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import { Loading } from './States.tsx';

interface Clv {
  as_of: string;
  model: string;
  p_alive: number;
  exp_purchases_90d: number;
  exp_purchases_365d: number;
  exp_avg_spend: number;
  clv_12m: number;
  historical_clv: number;
}

interface Cluster {
  cluster: number;
  label: { en: string; zh: string } | null;
  description: { en: string; zh: string } | null;
}

interface NextProduct {
  product_id: string;
  name: string | null;
  category: string | null;
  rank: number;
  reason: 'next' | 'due' | 'co_purchase';
  due_at: string | null;
  from_product: string | null;
  from_name: string | null;
}

export function CustomerPredictions({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const lang = i18n.language;
  const zh = lang.startsWith('zh');
  const enc = encodeURIComponent(id);
  const clv = useApi<{ clv: Clv | null; cluster: Cluster | null }>(`/api/customers/${enc}/clv`);
  const next = useApi<{ items: NextProduct[] }>(`/api/customers/${enc}/next-products`);
  const v = clv.data?.clv ?? null;
  const cluster = clv.data?.cluster ?? null;
  const why = (p: NextProduct) =>
    p.reason === 'due'
      ? t('c360p.due', { date: f.date(p.due_at) })
      : p.reason === 'next'
        ? t('c360p.after', { product: p.from_name ?? p.from_product ?? '' })
        : t('c360p.together', { product: p.from_name ?? p.from_product ?? '' });

  return (
    <div className="grid-2">
      <div className="card" data-testid="c360-clv">
        <h2 className="card-title">{t('c360p.clv')}</h2>
        {clv.error ? <p className="muted">{clv.error.message}</p> : null}
        {!clv.data && !clv.error ? <Loading /> : null}
        {clv.data && !v ? <p className="muted">{t('c360p.noClv')}</p> : null}
        {v ? (
          <>
            <div className="trend" style={{ gap: 24, marginBottom: 12, flexWrap: 'wrap' }}>
              <div>
                <div className="kpi-label">{t('c360p.clv12')}</div>
                <div className="kpi-value" style={{ fontSize: 22 }} data-testid="clv-12m">
                  {f.money(v.clv_12m)}
                </div>
              </div>
              <div>
                <div className="kpi-label">{t('c360p.pAlive')}</div>
                <div className="kpi-value" style={{ fontSize: 22 }}>
                  {percent(lang, v.p_alive)}
                </div>
              </div>
            </div>
            <dl className="facts">
              <dt>{t('c360p.purchases')}</dt>
              <dd>{t('c360p.purchasesDetail', { d90: f.number(v.exp_purchases_90d, 2), d365: f.number(v.exp_purchases_365d, 2) })}</dd>
              <dt>{t('c360p.spend')}</dt>
              <dd>{f.money(v.exp_avg_spend)}</dd>
              <dt>{t('c360p.historical')}</dt>
              <dd>{f.money(v.historical_clv)}</dd>
              {cluster?.label ? (
                <>
                  <dt>{t('c360p.cluster')}</dt>
                  <dd data-testid="c360-cluster">
                    {zh ? cluster.label.zh : cluster.label.en}
                    {cluster.description ? <div className="muted small">{zh ? cluster.description.zh : cluster.description.en}</div> : null}
                  </dd>
                </>
              ) : null}
            </dl>
            <p className="muted small" style={{ marginBottom: 0 }}>
              {t('c360p.asOf', { at: f.dateTime(v.as_of), model: v.model === 'bgnbd' ? 'BG/NBD' : 'Pareto/NBD' })}
            </p>
          </>
        ) : null}
      </div>
      <div className="card" data-testid="c360-next">
        <h2 className="card-title">{t('c360p.next')}</h2>
        {next.error ? <p className="muted">{next.error.message}</p> : null}
        {!next.data && !next.error ? <Loading /> : null}
        {next.data && next.data.items.length === 0 ? <p className="muted">{t('c360p.noNext')}</p> : null}
        {next.data?.items.length ? (
          <ol className="drivers">
            {next.data.items.map((p) => (
              <li key={p.product_id}>
                <b>{p.name ?? p.product_id}</b>
                {p.category ? <span className="muted small"> · {p.category}</span> : null}
                <div className="muted small">{why(p)}</div>
              </li>
            ))}
          </ol>
        ) : null}
      </div>
    </div>
  );
}
