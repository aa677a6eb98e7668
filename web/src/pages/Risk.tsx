// The Risk list: customers by churn probability with tier, top drivers in the
// current language, owner and CLV at stake; filters by tier and owner (kept in
// the URL), paging, CSV/XLSX of the same selection, each row linking to the 360.
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { exportUrl, percent } from '../analytics/report.ts';
import { query } from '../api.ts';
import { DebouncedInput } from '../components/DebouncedInput.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import { ComingSoon } from './ComingSoon.tsx';

interface RiskItem {
  customer_id: string;
  name: string | null;
  owner: string | null;
  probability: number | null;
  tier: 'high' | 'medium' | 'low';
  drivers: string[];
  scorecard_points: number | null;
  scorecard_level: string | null;
  clv_at_stake?: number | null;
  scored_at: string;
}

const TIERS = ['high', 'medium', 'low'] as const;
const PAGE_SIZE = 25;

export function RiskPage() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const tier = params.get('tier') ?? '';
  const owner = params.get('owner') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const lang = i18n.language.startsWith('zh') ? 'zh-CN' : 'en';
  const filters = { tier: tier || undefined, owner: owner || undefined, lang };
  const r = useApi<{ total: number; items: RiskItem[] }>(`/api/risk${query({ ...filters, page, page_size: PAGE_SIZE })}`);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== 'page') next.delete('page');
    setParams(next, { replace: true });
  };
  if (r.error?.status === 404) return <ComingSoon area="risk" />;
  const withClv = r.data?.items.some((x) => x.clv_at_stake !== undefined) ?? false;
  const pages = r.data ? Math.max(1, Math.ceil(r.data.total / PAGE_SIZE)) : 1;
  const exportPath = `/api/risk/export${query(filters)}`;

  return (
    <section aria-labelledby="page-title">
      <div className="page-head page-head-row">
        <div>
          <h1 id="page-title">{t('nav.risk')}</h1>
          <p className="muted">{t('risk.subtitle')}</p>
        </div>
        <div className="actions">
          {(['csv', 'xlsx'] as const).map((fmt) => (
            <a key={fmt} className="btn" href={exportUrl(exportPath, fmt, lang)} download data-testid={`risk-export-${fmt}`}>
              {t(`analytics.export.${fmt}`)}
            </a>
          ))}
        </div>
      </div>
      <div className="card toolbar" style={{ flexWrap: 'wrap' }}>
        <fieldset className="seg-toggle" aria-label={t('risk.filterTier')} style={{ margin: 0 }}>
          {['', ...TIERS].map((x) => (
            <button key={x || 'all'} type="button" aria-pressed={tier === x} onClick={() => set('tier', x)}>
              {x ? t(`risk.tier.${x}`) : t('risk.all')}
            </button>
          ))}
        </fieldset>
        <span className="inline-field">
          <label htmlFor="risk-owner">{t('risk.filterOwner')}</label>
          <DebouncedInput id="risk-owner" value={owner} onCommit={(v) => set('owner', v)} placeholder={t('risk.anyOwner')} />
        </span>
        <span className="muted" style={{ marginLeft: 'auto' }} data-testid="risk-total">
          {r.data ? t('risk.total', { n: f.number(r.data.total) }) : ''}
        </span>
      </div>
      <div className="card table-card">
        {r.error ? <ErrorState error={r.error} onRetry={r.reload} /> : null}
        {!r.data && !r.error ? <Loading /> : null}
        {r.data && r.data.items.length === 0 ? <Empty title={t('risk.emptyTitle')}>{t('risk.emptyBody')}</Empty> : null}
        {r.data && r.data.items.length > 0 ? (
          <div className={`table-wrap${r.loading ? ' is-loading' : ''}`}>
            <table className="table" data-testid="risk-table">
              <caption className="sr-only">{t('nav.risk')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('risk.customer')}</th>
                  <th scope="col" className="num">
                    {t('risk.probability')}
                  </th>
                  <th scope="col">{t('risk.filterTier')}</th>
                  <th scope="col">{t('risk.drivers')}</th>
                  <th scope="col">{t('risk.owner')}</th>
                  {withClv ? (
                    <th scope="col" className="num">
                      {t('risk.clvAtStake')}
                    </th>
                  ) : null}
                  <th scope="col" className="num">
                    {t('risk.points')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.data.items.map((x) => (
                  <tr key={x.customer_id}>
                    <td>
                      <Link to={`/customers/${encodeURIComponent(x.customer_id)}`}>{x.name || x.customer_id}</Link>
                      <div className="muted mono small">{x.customer_id}</div>
                    </td>
                    <td className="num">
                      <ProbabilityBar p={x.probability} label={percent(i18n.language, x.probability)} />
                    </td>
                    <td>
                      <span className={`pill pill-${x.tier}`}>{t(`risk.tier.${x.tier}`)}</span>
                    </td>
                    <td style={{ whiteSpace: 'normal', minWidth: 320 }}>
                      {x.drivers.length ? (
                        <ul className="drivers small">
                          {x.drivers.slice(0, 3).map((d) => (
                            <li key={d}>{d}</li>
                          ))}
                        </ul>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>{x.owner ?? <span className="muted">{t('risk.unassigned')}</span>}</td>
                    {withClv ? <td className="num">{f.money(x.clv_at_stake ?? null)}</td> : null}
                    <td className="num">{f.number(x.scorecard_points)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {r.data && r.data.total > PAGE_SIZE ? (
          <div className="pager">
            <span className="muted">{t('risk.total', { n: f.number(r.data.total) })}</span>
            <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => set('page', String(page - 1))}>
              {t('common.previous')}
            </button>
            <span className="muted small">
              {page} / {pages}
            </span>
            <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => set('page', String(page + 1))}>
              {t('common.next')}
            </button>
          </div>
        ) : null}
      </div>
    </section>
  );
}

function ProbabilityBar({ p, label }: { p: number | null; label: string }) {
  if (p === null) return <span className="muted">—</span>;
  const colour = p >= 0.6 ? '#dc2626' : p >= 0.3 ? '#d97706' : '#16a34a';
  return (
    <span className="trend" style={{ justifyContent: 'flex-end' }}>
      <span style={{ width: 60, height: 6, background: 'var(--line-2)', borderRadius: 999, overflow: 'hidden', display: 'inline-block' }} aria-hidden="true">
        <span style={{ display: 'block', height: '100%', width: `${Math.round(p * 100)}%`, background: colour }} />
      </span>
      <b>{label}</b>
    </span>
  );
}
