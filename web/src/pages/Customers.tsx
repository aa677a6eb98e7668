// The customer list: server-side paging, sorting, search and filters, all kept
// in the URL so a filtered list can be bookmarked and Back works. Export
// downloads the same selection from the export endpoint.
import { type KeyboardEvent, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { query } from '../api.ts';
import { DebouncedInput } from '../components/DebouncedInput.tsx';
import { Icon } from '../components/Icon.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi, useDebounced } from '../hooks.ts';
import type { CustomerPage } from '../types.ts';

const FILTERS = ['city', 'membership_level', 'owner', 'is_stub', 'registered_from', 'registered_to', 'min_spend', 'max_spend'] as const;
const SORTABLE = ['id', 'name', 'registered_at', 'last_order_at', 'orders', 'spend'] as const;
type SortKey = (typeof SORTABLE)[number];
const PAGE_SIZES = [25, 50, 100];

/** A picked day (YYYY-MM-DD, the browser's day) as the instant it starts or ends. */
function dayStart(d: string): string {
  const x = d ? new Date(`${d}T00:00:00`) : null;
  return x && !Number.isNaN(x.getTime()) ? x.toISOString() : '';
}
function dayEnd(d: string): string {
  const x = d ? new Date(`${d}T23:59:59.999`) : null;
  return x && !Number.isNaN(x.getTime()) ? x.toISOString() : '';
}

export function CustomersPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get('q') ?? '');
  const debouncedQ = useDebounced(q.trim(), 300);
  const [showFilters, setShowFilters] = useState(FILTERS.some((k) => params.get(k)));

  const sort = (params.get('sort') as SortKey | null) ?? 'id';
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const pageSize = PAGE_SIZES.includes(Number(params.get('page_size'))) ? Number(params.get('page_size')) : 50;

  const update = (changes: Record<string, string | null>, resetPage = true) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    if (resetPage) next.delete('page');
    setParams(next, { replace: true });
  };

  // The debounced search box drives the URL.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the debounced text matters
  useEffect(() => {
    if ((params.get('q') ?? '') !== debouncedQ) update({ q: debouncedQ || null });
  }, [debouncedQ]);

  const filterValues = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const selection = {
    q: params.get('q') ?? '',
    ...filterValues,
    registered_from: dayStart(filterValues.registered_from),
    registered_to: dayEnd(filterValues.registered_to),
    sort,
    order,
  };
  const listUrl = `/api/customers${query({ ...selection, page, page_size: pageSize })}`;
  const { data, error, loading, reload } = useApi<CustomerPage>(listUrl);
  const exportUrl = (format: 'csv' | 'xlsx') => `/api/customers/export${query({ format, ...selection })}`;

  const pages = data ? Math.max(1, Math.ceil(data.total / data.page_size)) : 1;
  const activeFilters = FILTERS.filter((k) => filterValues[k]).length;

  const setSort = (key: SortKey) => {
    if (sort === key) update({ sort: key, order: order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: key, order: key === 'spend' || key === 'orders' || key === 'last_order_at' ? 'desc' : 'asc' });
  };

  const tbody = useRef<HTMLTableSectionElement>(null);
  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, id: string) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      navigate(`/customers/${encodeURIComponent(id)}`);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const rows = Array.from(tbody.current?.querySelectorAll<HTMLTableRowElement>('tr[data-id]') ?? []);
      const i = rows.indexOf(e.currentTarget);
      rows[e.key === 'ArrowDown' ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1)]?.focus();
    }
  };

  const columns = useMemo(
    () =>
      [
        { key: 'id', sortable: true },
        { key: 'name', sortable: true },
        { key: 'phone', sortable: false },
        { key: 'email', sortable: false },
        { key: 'city', sortable: false },
        { key: 'membership_level', sortable: false },
        { key: 'owner', sortable: false },
        { key: 'registered_at', sortable: true },
        { key: 'last_order_at', sortable: true },
        { key: 'orders', sortable: true, numeric: true },
        { key: 'spend', sortable: true, numeric: true },
      ] as { key: string; sortable: boolean; numeric?: boolean }[],
    [],
  );

  return (
    <section aria-labelledby="page-title">
      <div className="page-head page-head-row">
        <div>
          <h1 id="page-title">{t('nav.customers')}</h1>
          <p className="muted">{data
              ? data.total_exact === false
                ? t('customers.totalCapped', { n: f.number(data.total) })
                : t('customers.total', { count: data.total, n: f.number(data.total) })
              : t('customers.subtitle')}</p>
        </div>
        <div className="actions">
          <a className="btn" href={exportUrl('csv')} download>
            <Icon name="download" size={16} />
            {t('customers.exportCsv')}
          </a>
          <a className="btn" href={exportUrl('xlsx')} download>
            <Icon name="download" size={16} />
            {t('customers.exportXlsx')}
          </a>
        </div>
      </div>

      <div className="card toolbar">
        <div className="search">
          <Icon name="search" size={16} />
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder={t('customers.searchPlaceholder')}
            aria-label={t('customers.searchLabel')}
          />
        </div>
        <button type="button" className="btn" aria-expanded={showFilters} aria-controls="customer-filters" onClick={() => setShowFilters((s) => !s)}>
          {t('customers.filters')}
          {activeFilters ? <span className="badge">{activeFilters}</span> : null}
        </button>
        {activeFilters ? (
          <button type="button" className="btn btn-ghost" onClick={() => update(Object.fromEntries(FILTERS.map((k) => [k, null])))}>
            {t('customers.clearFilters')}
          </button>
        ) : null}
      </div>

      {showFilters ? (
        <div className="card filters" id="customer-filters">
          <label className="field" htmlFor="f-city">
            <span>{t('customers.col.city')}</span>
            <DebouncedInput id="f-city" value={filterValues.city} onCommit={(v) => update({ city: v })} />
          </label>
          <label className="field" htmlFor="f-membership_level">
            <span>{t('customers.col.membership_level')}</span>
            <DebouncedInput id="f-membership_level" value={filterValues.membership_level} onCommit={(v) => update({ membership_level: v })} />
          </label>
          <label className="field" htmlFor="f-owner">
            <span>{t('customers.col.owner')}</span>
            <DebouncedInput id="f-owner" value={filterValues.owner} onCommit={(v) => update({ owner: v })} />
          </label>
          <label className="field">
            <span>{t('customers.stub')}</span>
            <select value={filterValues.is_stub} onChange={(e) => update({ is_stub: e.target.value })}>
              <option value="">{t('customers.stubAny')}</option>
              <option value="false">{t('customers.stubNo')}</option>
              <option value="true">{t('customers.stubYes')}</option>
            </select>
          </label>
          <label className="field">
            <span>{t('customers.registeredFrom')}</span>
            <input type="date" value={filterValues.registered_from} onChange={(e) => update({ registered_from: e.target.value })} />
          </label>
          <label className="field">
            <span>{t('customers.registeredTo')}</span>
            <input type="date" value={filterValues.registered_to} onChange={(e) => update({ registered_to: e.target.value })} />
          </label>
          <label className="field" htmlFor="f-min_spend">
            <span>{t('customers.minSpend')}</span>
            <DebouncedInput id="f-min_spend" type="number" min="0" inputMode="decimal" value={filterValues.min_spend} onCommit={(v) => update({ min_spend: v })} />
          </label>
          <label className="field" htmlFor="f-max_spend">
            <span>{t('customers.maxSpend')}</span>
            <DebouncedInput id="f-max_spend" type="number" min="0" inputMode="decimal" value={filterValues.max_spend} onCommit={(v) => update({ max_spend: v })} />
          </label>
        </div>
      ) : null}

      <div className="card table-card">
        {error ? (
          <ErrorState error={error} onRetry={reload} />
        ) : !data && loading ? (
          <Loading />
        ) : data && data.items.length === 0 ? (
          <Empty title={t('customers.emptyTitle')}>{params.get('q') || activeFilters ? t('customers.emptyFiltered') : t('customers.emptyBody')}</Empty>
        ) : data ? (
          <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
            <table className="table">
              <caption className="sr-only">{t('customers.caption')}</caption>
              <thead>
                <tr>
                  {columns.map((c) => {
                    const active = sort === c.key;
                    return (
                      <th
                        key={c.key}
                        scope="col"
                        className={c.numeric ? 'num' : ''}
                        aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : undefined}
                      >
                        {c.sortable ? (
                          <button type="button" className="th-sort" onClick={() => setSort(c.key as SortKey)}>
                            {t(`customers.col.${c.key}`)}
                            <span className="sort-ind" aria-hidden="true">
                              {active ? (order === 'asc' ? '▲' : '▼') : '↕'}
                            </span>
                          </button>
                        ) : (
                          t(`customers.col.${c.key}`)
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody ref={tbody}>
                {data.items.map((c) => (
                  <tr
                    key={c.id}
                    data-id={c.id}
                    tabIndex={0}
                    className="row-link"
                    aria-label={t('customers.openRow', { name: c.name || c.id })}
                    onClick={() => navigate(`/customers/${encodeURIComponent(c.id)}`)}
                    onKeyDown={(e) => onRowKey(e, c.id)}
                  >
                    <td className="mono">{c.id}</td>
                    <td>{c.name || <span className="muted">—</span>}</td>
                    <td className="mono">{c.phone || '—'}</td>
                    <td>{c.email || '—'}</td>
                    <td>{c.city || '—'}</td>
                    <td>{c.membership_level ? <span className="badge">{c.membership_level}</span> : '—'}</td>
                    <td>{c.owner || '—'}</td>
                    <td>{f.date(c.registered_at)}</td>
                    <td>{f.date(c.last_order_at)}</td>
                    <td className="num">{f.number(c.orders)}</td>
                    <td className="num">{f.money(c.spend)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {data && data.total > 0 ? (
          <div className="pager">
            <span className="muted">
              {t('customers.range', {
                from: f.number((data.page - 1) * data.page_size + 1),
                to: f.number(Math.min(data.total, data.page * data.page_size)),
                total: f.number(data.total),
              })}
            </span>
            <label className="inline-field">
              <span>{t('customers.pageSize')}</span>
              <select value={pageSize} onChange={(e) => update({ page_size: e.target.value })}>
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="btn" disabled={page <= 1} onClick={() => update({ page: String(page - 1) }, false)}>
              {t('common.previous')}
            </button>
            <span aria-live="polite">{t('customers.pageOf', { page: f.number(page), pages: f.number(pages) })}</span>
            <button type="button" className="btn" disabled={page >= pages} onClick={() => update({ page: String(page + 1) }, false)}>
              {t('common.next')}
            </button>
          </div>
        ) : null}
      </div>
    </section>
  );
}
