// One customer: profile, consent, membership, figures and a single timeline of
// orders, events, tickets and surveys (paged by cursor, filtered by type).
// Masked fields are shown exactly as the API returns them.
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError, api, query } from '../api.ts';
import { CustomerAnalytics } from '../components/CustomerAnalytics.tsx';
import { CustomerPredictions } from '../components/CustomerPredictions.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { type Formatter, useFormat } from '../format.ts';
import { useApi } from '../hooks.ts';
import { type Consent, type Customer360, TIMELINE_TYPES, type TimelineItem, type TimelinePage, type TimelineType } from '../types.ts';

const PAGE = 50;

export function Customer360Page() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const { data, error, loading, reload } = useApi<Customer360>(`/api/customers/${encodeURIComponent(id)}`);

  return (
    <section aria-labelledby="page-title">
      <nav className="crumbs" aria-label={t('common.breadcrumb')}>
        <Link to="/customers">{t('nav.customers')}</Link> <span aria-hidden="true">/</span> <span>{id}</span>
      </nav>
      {error ? (
        <ErrorState error={error} onRetry={reload} />
      ) : loading || !data ? (
        <Loading />
      ) : (
        <>
          <div className="page-head page-head-row">
            <div>
              <h1 id="page-title">{data.customer.name || t('c360.unnamed')}</h1>
              <p className="muted">
                <span className="mono">{data.customer.id}</span>
                {data.customer.membership_level ? <span className="badge">{data.customer.membership_level}</span> : null}
                {data.customer.is_stub ? <span className="badge badge-warn">{t('c360.stub')}</span> : null}
                {data.customer.merged_into ? (
                  <span className="badge badge-warn">
                    {t('c360.mergedInto')} <Link to={`/customers/${encodeURIComponent(data.customer.merged_into)}`}>{data.customer.merged_into}</Link>
                  </span>
                ) : null}
              </p>
            </div>
          </div>
          <Figures data={data} f={f} />
          <CustomerAnalytics id={id} />
          <CustomerPredictions id={id} />
          <div className="grid-3">
            <Profile data={data} f={f} />
            <div className="stack">
              <Membership data={data} f={f} />
              <ConsentCard consent={data.customer.consent} />
            </div>
            <Attributes attrs={data.customer.attributes} />
          </div>
          <Timeline id={id} f={f} />
        </>
      )}
    </section>
  );
}

function Figures({ data, f }: { data: Customer360; f: Formatter }) {
  const { t } = useTranslation();
  const x = data.figures;
  const items: [string, string][] = [
    ['orders', f.number(x.orders)],
    ['spend', f.money(x.spend)],
    ['average_order_value', f.money(x.average_order_value)],
    ['first_order_at', f.date(x.first_order_at)],
    ['last_order_at', f.date(x.last_order_at)],
    ['refunded_orders', f.number(x.refunded_orders)],
    ['open_tickets', f.number(x.open_tickets)],
    ['last_nps', f.number(x.last_nps)],
    ['last_csat', f.number(x.last_csat, 1)],
    ['events_30d', f.number(x.events_30d)],
  ];
  return (
    <div className="kpi-grid kpi-grid-5" data-testid="figures">
      {items.map(([k, v]) => (
        <div className="card kpi kpi-sm" key={k}>
          <div className="kpi-label">{t(`c360.fig.${k}`)}</div>
          <div className="kpi-value">{v}</div>
        </div>
      ))}
    </div>
  );
}

function Profile({ data, f }: { data: Customer360; f: Formatter }) {
  const { t } = useTranslation();
  const c = data.customer;
  const rows: [string, React.ReactNode][] = [
    ['phone', <span className="mono" key="phone">{c.phone || '—'}</span>],
    ['email', c.email || '—'],
    ['gender', c.gender ? t(`c360.genders.${c.gender}`, { defaultValue: c.gender }) : '—'],
    ['birthday', c.birthday ? f.date(c.birthday) : '—'],
    ['region', [c.region, c.city].filter(Boolean).join(' · ') || '—'],
    ['registered_at', f.date(c.registered_at)],
    ['acquisition_channel', c.acquisition_channel || '—'],
    ['preferred_channel', c.preferred_channel ? t(`channels.${c.preferred_channel}`, { defaultValue: c.preferred_channel }) : '—'],
    ['owner', c.owner || '—'],
    ['time_zone', c.time_zone || '—'],
  ];
  return (
    <div className="card">
      <h2 className="card-title">{t('c360.profile')}</h2>
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div className="fact" key={k}>
            <dt>{t(`c360.field.${k}`)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function Membership({ data, f }: { data: Customer360; f: Formatter }) {
  const { t } = useTranslation();
  const c = data.customer;
  return (
    <div className="card">
      <h2 className="card-title">{t('c360.membership')}</h2>
      <dl className="facts">
        <div className="fact">
          <dt>{t('c360.field.membership_level')}</dt>
          <dd>{c.membership_level || t('c360.noMembership')}</dd>
        </div>
        <div className="fact">
          <dt>{t('c360.field.membership_expires_at')}</dt>
          <dd>{f.date(c.membership_expires_at)}</dd>
        </div>
      </dl>
    </div>
  );
}

function ConsentCard({ consent }: { consent: Consent | null }) {
  const { t } = useTranslation();
  const channels = Object.keys(consent ?? {});
  const purposes = [
    ...new Set(
      channels.flatMap((ch) => {
        const v = consent?.[ch];
        return v && typeof v === 'object' ? Object.keys(v) : [];
      }),
    ),
  ];
  const cell = (v: boolean | null | undefined) =>
    v === true ? (
      <span className="yes">{t('c360.consentYes')}</span>
    ) : v === false ? (
      <span className="no">{t('c360.consentNo')}</span>
    ) : (
      <span className="muted">{t('c360.consentUnknown')}</span>
    );
  return (
    <div className="card">
      <h2 className="card-title">{t('c360.consent')}</h2>
      {channels.length === 0 ? (
        <p className="muted">{t('c360.noConsent')}</p>
      ) : (
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">{t('c360.channel')}</th>
              {purposes.length ? (
                purposes.map((p) => (
                  <th scope="col" key={p}>
                    {t(`purposes.${p}`, { defaultValue: p })}
                  </th>
                ))
              ) : (
                <th scope="col">{t('c360.consent')}</th>
              )}
            </tr>
          </thead>
          <tbody>
            {channels.map((ch) => {
              const v = consent?.[ch];
              return (
                <tr key={ch}>
                  <th scope="row">{t(`channels.${ch}`, { defaultValue: ch })}</th>
                  {purposes.length ? (
                    purposes.map((p) => <td key={p}>{cell(v && typeof v === 'object' ? v[p] : (v as boolean | null))}</td>)
                  ) : (
                    <td>{cell(v as boolean | null)}</td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Attributes({ attrs }: { attrs: Record<string, unknown> | null }) {
  const { t } = useTranslation();
  const entries = Object.entries(attrs ?? {});
  return (
    <div className="card">
      <h2 className="card-title">{t('c360.attributes')}</h2>
      {entries.length === 0 ? (
        <p className="muted">{t('c360.noAttributes')}</p>
      ) : (
        <dl className="facts">
          {entries.map(([k, v]) => (
            <div className="fact" key={k}>
              <dt className="mono">{k}</dt>
              <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

type T = (key: string, opts?: Record<string, unknown>) => string;

/** Scalar details as "key: value", skipping empty ones. */
function scalars(d: Record<string, unknown>, skip: string[] = []): string {
  return Object.entries(d)
    .filter(([k, v]) => !skip.includes(k) && v !== null && v !== undefined && v !== '' && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

/** A timeline row in words: what happened and the few facts that matter. */
function describe(it: TimelineItem, t: T, f: Formatter): { title: string; detail: string } {
  const d = it.detail ?? {};
  const parts: string[] = [];
  const str = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
  if (it.type === 'order') {
    const amount = Number(d.amount);
    const lines = Array.isArray(d.lines) ? d.lines.length : 0;
    const status = str(d.status);
    if (status) parts.push(t(`c360.orderStatus.${status}`, { defaultValue: status }));
    for (const k of ['store', 'channel', 'coupon_code']) if (str(d[k])) parts.push(String(d[k]));
    if (Number(d.discount) > 0) parts.push(t('c360.tl.discount', { amount: f.money(Number(d.discount)) }));
    if (lines) parts.push(t('c360.tl.lines', { count: lines }));
    return { title: `${t('c360.tl.order', { id: it.id })} · ${f.money(Number.isFinite(amount) ? amount : null)}`, detail: parts.join(' · ') };
  }
  if (it.type === 'ticket') {
    for (const k of ['priority', 'status', 'category', 'channel', 'owner']) if (str(d[k])) parts.push(String(d[k]));
    return { title: it.title || t('c360.types.ticket'), detail: parts.join(' · ') };
  }
  if (it.type === 'survey') {
    if (d.nps !== null && d.nps !== undefined) parts.push(`NPS ${d.nps}`);
    if (d.csat !== null && d.csat !== undefined) parts.push(`CSAT ${d.csat}`);
    if (str(d.churn_reason)) parts.push(t('c360.tl.churnReason', { reason: d.churn_reason }));
    if (str(d.text)) parts.push(`“${d.text}”`);
    return { title: it.title || t('c360.types.survey'), detail: parts.join(' · ') };
  }
  return { title: it.title || t('c360.types.event'), detail: scalars(d) };
}

function Timeline({ id, f }: { id: string; f: Formatter }) {
  const { t } = useTranslation();
  const [types, setTypes] = useState<TimelineType[]>(TIMELINE_TYPES);
  const [items, setItems] = useState<TimelineItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);

  const load = useCallback(
    async (before: string | null, signal?: AbortSignal) => {
      setLoading(true);
      setError(null);
      try {
        const r = await api<TimelinePage>(
          `/api/customers/${encodeURIComponent(id)}/timeline${query({ types: types.join(','), before, limit: PAGE })}`,
          { signal },
        );
        setItems((prev) => (before ? [...prev, ...r.items] : r.items));
        setCursor(r.next_cursor);
        setDone(!r.next_cursor);
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
      } finally {
        if (!signal?.aborted) setLoading(false);
      }
    },
    [id, types],
  );

  useEffect(() => {
    const ac = new AbortController();
    setItems([]);
    setCursor(null);
    void load(null, ac.signal);
    return () => ac.abort();
  }, [load]);

  const toggle = (ty: TimelineType) =>
    setTypes((cur) => (cur.includes(ty) ? (cur.length > 1 ? cur.filter((x) => x !== ty) : cur) : TIMELINE_TYPES.filter((x) => x === ty || cur.includes(x))));

  return (
    <section className="card" aria-labelledby="timeline-title">
      <div className="card-head">
        <h2 className="card-title" id="timeline-title">
          {t('c360.timeline')}
        </h2>
        <fieldset className="chips">
          <legend className="sr-only">{t('c360.timelineTypes')}</legend>
          {TIMELINE_TYPES.map((ty) => (
            <label key={ty} className={`chip${types.includes(ty) ? ' on' : ''}`}>
              <input type="checkbox" checked={types.includes(ty)} onChange={() => toggle(ty)} />
              {t(`c360.types.${ty}`)}
            </label>
          ))}
        </fieldset>
      </div>
      {items.length === 0 && loading ? <Loading /> : null}
      {error && items.length === 0 ? <ErrorState error={error} onRetry={() => void load(null)} /> : null}
      {!loading && !error && items.length === 0 ? <Empty title={t('c360.timelineEmpty')} /> : null}
      {items.length ? (
        <ol className="timeline" data-testid="timeline">
          {items.map((it) => (
            <li key={`${it.type}:${it.id}`} className={`tl-item tl-${it.type}`}>
              <span className="tl-dot" aria-hidden="true" />
              <div className="tl-body">
                <div className="tl-head">
                  <span className={`pill pill-type-${it.type}`}>{t(`c360.types.${it.type}`)}</span>
                  <span className="tl-title">{describe(it, t, f).title}</span>
                  <time className="muted small" dateTime={it.at}>
                    {f.dateTime(it.at)}
                  </time>
                </div>
                {describe(it, t, f).detail ? <div className="tl-detail muted">{describe(it, t, f).detail}</div> : null}
              </div>
            </li>
          ))}
        </ol>
      ) : null}
      {items.length > 0 ? (
        <div className="tl-foot">
          {error ? (
            <span className="alert alert-error" role="alert">
              {error.message}
            </span>
          ) : null}
          {!done ? (
            <button type="button" className="btn" disabled={loading} onClick={() => void load(cursor)}>
              {loading ? t('common.loading') : t('c360.loadMore')}
            </button>
          ) : (
            <span className="muted small">{t('c360.timelineEnd', { n: f.number(items.length) })}</span>
          )}
        </div>
      ) : null}
    </section>
  );
}
