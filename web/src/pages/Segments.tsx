// Tags and segments: the list (built-in and custom, member counts, last
// evaluated), one segment's members (with downloads) and membership history,
// and the builder — the text rule validated as you type (POST
// /api/segments/validate, the error at its line and column), a preview (count,
// sample, explanation) before saving, save/edit/disable/delete.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { exportUrl, pick } from '../analytics/report.ts';
import { ApiError, api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { useApi, useDebounced } from '../hooks.ts';
import { TierBadge } from './Dashboard.tsx';

export interface Segment {
  id: string;
  kind: 'tag' | 'segment';
  name: string;
  name_zh: string | null;
  description: string | null;
  rule_text: string;
  builtin: boolean;
  enabled: boolean;
  owner: string | null;
  evaluated_at: string | null;
  updated_at: string;
  member_count: number;
  last_error: string | null;
}

interface Member {
  id: string;
  name: string | null;
  tier: string | null;
  lifecycle_stage: string | null;
  spend_total: number | null;
  orders_total: number | null;
  since?: string;
}

interface RuleError {
  message: string;
  path: string;
  line?: number;
  column?: number;
  length?: number;
}

interface Preview {
  text: string;
  count: number;
  sample: Member[];
  explanation: { en: string; zh: string };
  parts: { text: string; explanation: { en: string; zh: string }; count: number }[];
}

const WRITERS = ['admin', 'operator'];

export function SegmentsPage() {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const { me } = useAuth();
  const canWrite = me ? WRITERS.includes(me.user.role) : false;
  const [params, setParams] = useSearchParams();
  const selected = params.get('id');
  const mode = params.get('edit') ? 'edit' : params.get('new') ? 'new' : 'view';
  const list = useApi<{ items: Segment[] }>('/api/segments');
  const items = list.data?.items ?? [];
  const current = items.find((s) => s.id === selected) ?? null;
  const go = (p: Record<string, string>) => setParams(p);

  return (
    <section aria-labelledby="page-title">
      <div className="page-head page-head-row">
        <div>
          <h1 id="page-title">{t('nav.segments')}</h1>
          <p className="muted">{t('seg.subtitle')}</p>
        </div>
        {canWrite ? (
          <button type="button" className="btn btn-primary" onClick={() => go({ new: '1' })} data-testid="new-segment">
            {t('seg.new')}
          </button>
        ) : null}
      </div>
      <div className="split">
        <div className="card" style={{ padding: 8 }}>
          {list.error ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
          {!list.data && !list.error ? <Loading /> : null}
          {list.data && items.length === 0 ? <Empty title={t('seg.emptyTitle')} /> : null}
          {(['custom', 'builtin'] as const).map((group) => {
            const g = items.filter((s) => (group === 'builtin') === s.builtin);
            if (!g.length) return null;
            return (
              <div key={group}>
                <h2 className="small muted" style={{ padding: '8px 10px 4px', margin: 0 }}>
                  {t(`seg.group.${group}`)}
                </h2>
                <ul className="list-select" data-testid={`segment-list-${group}`}>
                  {g.map((s) => (
                    <li key={s.id}>
                      <button type="button" aria-current={s.id === selected} onClick={() => go({ id: s.id })}>
                        <span>
                          {pick(i18n.language, s.name, s.name_zh)}
                          {!s.enabled ? <span className="badge">{t('seg.disabled')}</span> : null}
                          {s.last_error ? <span className="badge badge-warn">!</span> : null}
                          <span className="muted small" style={{ display: 'block' }}>
                            {t(`seg.kind.${s.kind}`)} · {s.evaluated_at ? t('seg.evaluatedAt', { at: f.relative(s.evaluated_at) }) : t('seg.notEvaluated')}
                          </span>
                        </span>
                        <span className="muted" style={{ fontVariantNumeric: 'tabular-nums' }}>
                          {f.number(s.member_count)}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            );
          })}
        </div>
        <div>
          {mode === 'new' ? (
            <Builder
              key="new"
              onSaved={(s) => {
                list.reload();
                go({ id: s.id });
              }}
              onCancel={() => go({})}
            />
          ) : mode === 'edit' && current ? (
            <Builder
              key={`edit-${current.id}`}
              segment={current}
              onSaved={(s) => {
                list.reload();
                go({ id: s.id });
              }}
              onCancel={() => go({ id: current.id })}
            />
          ) : current ? (
            <Detail
              s={current}
              canWrite={canWrite}
              onEdit={() => go({ id: current.id, edit: '1' })}
              onChanged={(deleted) => {
                list.reload();
                if (deleted) go({});
              }}
            />
          ) : (
            <div className="card">
              <Empty title={t('seg.pickTitle')}>{t('seg.pickBody')}</Empty>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

function Detail({ s, canWrite, onEdit, onChanged }: { s: Segment; canWrite: boolean; onEdit(): void; onChanged(deleted: boolean): void }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const [tab, setTab] = useState<'members' | 'history'>('members');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const act = async (fn: () => Promise<unknown>, deleted = false) => {
    setBusy(true);
    setErr(null);
    try {
      await fn();
      onChanged(deleted);
    } catch (e) {
      setErr(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
    } finally {
      setBusy(false);
    }
  };
  const path = `/api/segments/${encodeURIComponent(s.id)}`;
  return (
    <>
      <div className="card" data-testid="segment-detail">
        <div className="card-head">
          <h2 className="card-title">
            {pick(i18n.language, s.name, s.name_zh)} <span className="badge">{t(`seg.kind.${s.kind}`)}</span>
            {s.builtin ? <span className="badge">{t('seg.builtin')}</span> : null}
            {!s.enabled ? <span className="badge badge-warn">{t('seg.disabled')}</span> : null}
          </h2>
          {canWrite ? (
            <div className="actions">
              <button type="button" className="btn btn-small" onClick={onEdit}>
                {t('seg.edit')}
              </button>
              <button type="button" className="btn btn-small" disabled={busy} onClick={() => act(() => api(path, { method: 'PUT', body: { enabled: !s.enabled } }))}>
                {s.enabled ? t('seg.disable') : t('seg.enable')}
              </button>
              {!s.builtin ? (
                <button
                  type="button"
                  className="btn btn-small btn-danger"
                  disabled={busy}
                  onClick={() => {
                    if (window.confirm(t('seg.confirmDelete', { name: s.name }))) void act(() => api(path, { method: 'DELETE' }), true);
                  }}
                >
                  {t('seg.delete')}
                </button>
              ) : null}
            </div>
          ) : null}
        </div>
        {s.description ? <p className="muted">{s.description}</p> : null}
        <pre className="rule-editor" style={{ minHeight: 0, margin: '0 0 12px', whiteSpace: 'pre-wrap' }}>
          {s.rule_text}
        </pre>
        <dl className="facts">
          <dt>{t('seg.members')}</dt>
          <dd className="big-number" style={{ fontSize: 20 }}>
            {f.number(s.member_count)}
          </dd>
          <dt>{t('seg.lastEvaluated')}</dt>
          <dd>{s.evaluated_at ? f.dateTime(s.evaluated_at) : t('seg.notEvaluated')}</dd>
          {s.owner ? (
            <>
              <dt>{t('seg.owner')}</dt>
              <dd>{s.owner}</dd>
            </>
          ) : null}
        </dl>
        {s.last_error ? <div className="alert alert-error small">{s.last_error}</div> : null}
        {err ? <div className="alert alert-error small">{err.message}</div> : null}
      </div>
      <div className="card">
        <div className="card-head">
          <div className="tabs" role="tablist" style={{ margin: 0, border: 0 }}>
            {(['members', 'history'] as const).map((k) => (
              <button key={k} type="button" role="tab" aria-selected={tab === k} className={tab === k ? 'active' : ''} onClick={() => setTab(k)}>
                {t(`seg.tab.${k}`)}
              </button>
            ))}
          </div>
          {tab === 'members' ? (
            <div className="actions">
              {(['csv', 'xlsx'] as const).map((fmt) => (
                <a key={fmt} className="btn btn-small" href={exportUrl(`${path}/members/export`, fmt, i18n.language)} download>
                  {t(`analytics.export.${fmt}`)}
                </a>
              ))}
            </div>
          ) : null}
        </div>
        {tab === 'members' ? <Members path={path} /> : <History path={path} />}
      </div>
    </>
  );
}

function MemberTable({ rows, withSince }: { rows: Member[]; withSince?: boolean }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <caption className="sr-only">{t('seg.tab.members')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('seg.col.customer')}</th>
            <th scope="col">{t('tiers.tier')}</th>
            <th scope="col">{t('seg.col.stage')}</th>
            <th scope="col" className="num">
              {t('seg.col.orders')}
            </th>
            <th scope="col" className="num">
              {t('seg.col.spend')}
            </th>
            {withSince ? <th scope="col">{t('seg.col.since')}</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={m.id}>
              <td>
                <Link to={`/customers/${encodeURIComponent(m.id)}`}>{m.name || m.id}</Link> <span className="muted mono">{m.id}</span>
              </td>
              <td>
                <TierBadge tier={m.tier} />
              </td>
              <td>{m.lifecycle_stage ? t(`lifecycle.${m.lifecycle_stage}`, { defaultValue: m.lifecycle_stage }) : '—'}</td>
              <td className="num">{f.number(m.orders_total)}</td>
              <td className="num">{f.money(m.spend_total)}</td>
              {withSince ? <td>{f.date(m.since)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Members({ path }: { path: string }) {
  const { t } = useTranslation();
  const f = useFormat();
  const [page, setPage] = useState(1);
  const r = useApi<{ total: number; page: number; page_size: number; items: Member[] }>(`${path}/members?page=${page}&page_size=20`);
  if (r.error) return <ErrorState error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading />;
  if (r.data.total === 0) return <Empty title={t('seg.noMembers')}>{t('seg.noMembersBody')}</Empty>;
  const pages = Math.max(1, Math.ceil(r.data.total / r.data.page_size));
  return (
    <>
      <MemberTable rows={r.data.items} withSince />
      <div className="pager">
        <span className="muted">{t('seg.totalMembers', { n: f.number(r.data.total) })}</span>
        <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          {t('common.previous')}
        </button>
        <span className="muted small">
          {page} / {pages}
        </span>
        <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => setPage(page + 1)}>
          {t('common.next')}
        </button>
      </div>
    </>
  );
}

function History({ path }: { path: string }) {
  const { t } = useTranslation();
  const f = useFormat();
  const r = useApi<{ items: { customer_id: string; at: string; change: string }[] }>(`${path}/history?page_size=100`);
  if (r.error) return <ErrorState error={r.error} onRetry={r.reload} />;
  if (!r.data) return <Loading />;
  if (r.data.items.length === 0) return <Empty title={t('seg.noHistory')} />;
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <caption className="sr-only">{t('seg.tab.history')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('seg.col.at')}</th>
            <th scope="col">{t('seg.col.change')}</th>
            <th scope="col">{t('seg.col.customer')}</th>
          </tr>
        </thead>
        <tbody>
          {r.data.items.map((h) => (
            <tr key={`${h.customer_id}-${h.at}-${h.change}`}>
              <td>{f.dateTime(h.at)}</td>
              <td>
                <span className={`pill ${h.change === 'entered' ? 'pill-done' : 'pill-skipped'}`}>{t(`seg.change.${h.change}`, { defaultValue: h.change })}</span>
              </td>
              <td>
                <Link to={`/customers/${encodeURIComponent(h.customer_id)}`}>{h.customer_id}</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The error under the rule with a caret at its column. */
function errorExcerpt(text: string, e: RuleError): string {
  if (!e.line || !e.column) return e.message;
  const line = text.split('\n')[e.line - 1] ?? '';
  return `${line}\n${' '.repeat(Math.max(0, e.column - 1))}${'^'.repeat(Math.max(1, Math.min(e.length ?? 1, 40)))}`;
}

function Builder({ segment, onSaved, onCancel }: { segment?: Segment; onSaved(s: Segment): void; onCancel(): void }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const [name, setName] = useState(segment?.name ?? '');
  const [nameZh, setNameZh] = useState(segment?.name_zh ?? '');
  const [kind, setKind] = useState<'tag' | 'segment'>(segment?.kind ?? 'segment');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [rule, setRule] = useState(segment?.rule_text ?? '');
  const debounced = useDebounced(rule, 300);
  const [check, setCheck] = useState<{ ok: boolean; errors?: RuleError[]; text?: string } | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [saving, setSaving] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!debounced.trim()) {
      setCheck(null);
      return;
    }
    const ac = new AbortController();
    api<{ ok: boolean; errors?: RuleError[]; text?: string }>('/api/segments/validate', { method: 'POST', body: { rule: debounced }, signal: ac.signal })
      .then(setCheck)
      .catch(() => {});
    return () => ac.abort();
  }, [debounced]);

  const runPreview = async () => {
    setPreviewing(true);
    setErr(null);
    try {
      setPreview(await api<Preview>('/api/segments/preview', { method: 'POST', body: { rule, sample: 10 } }));
    } catch (e) {
      setErr(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
    } finally {
      setPreviewing(false);
    }
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setErr(null);
    const body = { name, name_zh: nameZh || null, kind, description: description || null, rule };
    try {
      const s = segment
        ? await api<Segment>(`/api/segments/${encodeURIComponent(segment.id)}`, { method: 'PUT', body })
        : await api<Segment>('/api/segments', { method: 'POST', body });
      onSaved(s);
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'network', String(e2)));
    } finally {
      setSaving(false);
    }
  };
  const invalid = check !== null && !check.ok;
  const stale = check?.ok !== true || debounced !== rule;

  return (
    <form className="card" onSubmit={save} data-testid="segment-builder">
      <h2 className="card-title">{segment ? t('seg.editTitle', { name: segment.name }) : t('seg.newTitle')}</h2>
      <div className="form-grid" style={{ marginBottom: 14 }}>
        <label className="field">
          {t('seg.name')}
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
        </label>
        <label className="field">
          {t('seg.nameZh')}
          <input value={nameZh} onChange={(e) => setNameZh(e.target.value)} maxLength={120} />
        </label>
        <label className="field">
          {t('seg.kindLabel')}
          <select value={kind} onChange={(e) => setKind(e.target.value as 'tag' | 'segment')}>
            <option value="segment">{t('seg.kind.segment')}</option>
            <option value="tag">{t('seg.kind.tag')}</option>
          </select>
        </label>
        <label className="field">
          {t('seg.description')}
          <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
        </label>
      </div>
      <label className="field" htmlFor="rule-text">
        {t('seg.rule')}
      </label>
      <textarea
        id="rule-text"
        className={`rule-editor${invalid ? ' invalid' : ''}`}
        value={rule}
        onChange={(e) => setRule(e.target.value)}
        spellCheck={false}
        placeholder={'tier = "D" and lifecycle_stage in ("at_risk", "dormant")'}
        aria-invalid={invalid}
        aria-describedby="rule-status"
      />
      <div id="rule-status" aria-live="polite" data-testid="rule-status">
        {invalid
          ? check.errors?.map((e) => (
              <div key={`${e.path}-${e.line}-${e.column}`}>
                <p className="small no" style={{ margin: '6px 0 0' }}>
                  {e.line ? t('seg.errorAt', { line: e.line, column: e.column }) : e.path}: {e.message}
                </p>
                {e.line ? <pre className="rule-error">{errorExcerpt(debounced, e)}</pre> : null}
              </div>
            ))
          : null}
        {check?.ok ? <p className="rule-ok">✓ {t('seg.valid')}</p> : null}
        {!check ? <p className="muted small">{t('seg.ruleHelp')}</p> : null}
      </div>
      <div className="form-actions" style={{ marginTop: 12 }}>
        <button type="button" className="btn" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="button" className="btn" onClick={() => void runPreview()} disabled={stale || previewing} data-testid="preview-rule">
          {previewing ? t('common.loading') : t('seg.preview')}
        </button>
        <button type="submit" className="btn btn-primary" disabled={stale || saving || !name.trim()}>
          {t('common.save')}
        </button>
      </div>
      {err ? <div className="alert alert-error small">{err.message}</div> : null}
      {preview ? (
        <div className="preview" data-testid="preview" style={{ marginTop: 16, borderTop: '1px solid var(--line)', paddingTop: 14 }}>
          <p style={{ margin: 0 }}>
            <span className="big-number" data-testid="preview-count">
              {f.number(preview.count)}
            </span>{' '}
            <span className="muted">{t('seg.matchNow')}</span>
          </p>
          <p className="muted">{pick(i18n.language, preview.explanation.en, preview.explanation.zh)}</p>
          {preview.parts.length > 1 ? (
            <ul className="small muted">
              {preview.parts.map((p) => (
                <li key={p.text}>
                  {pick(i18n.language, p.explanation.en, p.explanation.zh)}: <b>{f.number(p.count)}</b>
                </li>
              ))}
            </ul>
          ) : null}
          {preview.sample.length ? <MemberTable rows={preview.sample} /> : null}
        </div>
      ) : null}
    </form>
  );
}
