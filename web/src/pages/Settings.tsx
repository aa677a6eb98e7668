// Settings for admins: the workspace (name, time zone, currency, default
// language), users (create, change role, disable) and API keys (create — shown
// once — and revoke); for admins and analysts: churn (definition, risk tiers,
// training cut-offs, explanations), the early-warning scorecard and CLV. Other roles
// get the forbidden page.
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, listOf } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { ChurnSettingsForm, ClvSettingsForm, PredictionSettingsForms, ScorecardForm } from '../components/ChurnSettings.tsx';
import { Forbidden } from '../components/Forbidden.tsx';
import { Empty, ErrorState, Loading, Notice } from '../components/States.tsx';
import { useFormat } from '../format.ts';
import { type Loaded, useApi } from '../hooks.ts';
import { LANGUAGES } from '../i18n/index.ts';
import { type ApiKey, USER_ROLES, type User, type UserRole, type Workspace } from '../types.ts';

const TABS = ['workspace', 'users', 'keys', 'churn', 'scorecard', 'clv', 'predictions'] as const;
type Tab = (typeof TABS)[number];
/** The tabs a role may use; the server checks the same roles. */
const TABS_OF: Partial<Record<UserRole, readonly Tab[]>> = { admin: TABS, analyst: ['churn', 'scorecard', 'clv', 'predictions'] };
const PANELS: Record<Tab, () => ReactNode> = {
  workspace: () => <WorkspaceForm />,
  users: () => <Users />,
  keys: () => <Keys />,
  churn: () => <ChurnSettingsForm />,
  scorecard: () => <ScorecardForm />,
  clv: () => <ClvSettingsForm />,
  predictions: () => <PredictionSettingsForms />,
};
const TIME_ZONES = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'UTC'];
const CURRENCIES = ['CNY', 'HKD', 'TWD', 'SGD', 'JPY', 'USD', 'EUR', 'GBP'];

export function SettingsPage() {
  const { t } = useTranslation();
  const { me } = useAuth();
  const tabs = (me && TABS_OF[me.user.role]) ?? [];
  const [chosen, setTab] = useState<Tab | null>(null);
  if (tabs.length === 0) return <Forbidden />;
  const tab = chosen && tabs.includes(chosen) ? chosen : tabs[0]!;
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{t('nav.settings')}</h1>
      </div>
      <div className="tabs" role="tablist" aria-label={t('nav.settings')}>
        {tabs.map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={tab === k}
            aria-controls={`panel-${k}`}
            className={tab === k ? 'active' : ''}
            onClick={() => setTab(k)}
          >
            {t(`settings.tabs.${k}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {PANELS[tab]()}
      </div>
    </section>
  );
}

function errorText(e: unknown, fallback: string): string {
  return e instanceof ApiError ? e.message : fallback;
}

function WorkspaceForm() {
  const { t } = useTranslation();
  const { refresh } = useAuth();
  const { data, error, loading, reload } = useApi<Workspace | { workspace: Workspace }>('/api/settings/workspace');
  const [form, setForm] = useState<Workspace | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (data) setForm('workspace' in data ? data.workspace : data);
  }, [data]);

  if (error) return <ErrorState error={error} onRetry={reload} />;
  if (loading || !form) return <Loading />;

  const set = (k: keyof Workspace, v: string) => setForm({ ...form, [k]: v });
  async function save(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    setBusy(true);
    setMsg(null);
    try {
      await api('/api/settings/workspace', {
        method: 'PUT',
        body: { name: form.name, time_zone: form.time_zone, currency: form.currency, locale: form.locale },
      });
      setMsg({ ok: true, text: t('settings.saved') });
      await refresh();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err, t('errors.generic')) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card form-grid" onSubmit={save}>
      <label className="field">
        <span>{t('settings.workspace.name')}</span>
        <input value={form.name} onChange={(e) => set('name', e.target.value)} required />
      </label>
      <label className="field">
        <span>{t('settings.workspace.timeZone')}</span>
        <select value={form.time_zone} onChange={(e) => set('time_zone', e.target.value)}>
          {[...new Set([form.time_zone, ...TIME_ZONES])].map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('settings.workspace.currency')}</span>
        <select value={form.currency} onChange={(e) => set('currency', e.target.value)}>
          {[...new Set([form.currency, ...CURRENCIES])].map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t('settings.workspace.locale')}</span>
        <select value={form.locale} onChange={(e) => set('locale', e.target.value)}>
          {LANGUAGES.map((l) => (
            <option key={l.code} value={l.code}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <div className="form-actions">
        {msg ? (
          <Notice ok={msg.ok} inline>
            {msg.text}
          </Notice>
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

function Users() {
  const { t } = useTranslation();
  const f = useFormat();
  const { me } = useAuth();
  const list = useApi<unknown>('/api/users');
  const { reload } = list;
  const users = listOf<User>(list.data, 'users');
  const [draft, setDraft] = useState({ email: '', name: '', role: 'viewer' as UserRole, password: '' });
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setMsg(null);
    try {
      const r = await api<{ user?: User; one_time_password?: string | null }>('/api/users', {
        method: 'POST',
        body: { email: draft.email.trim(), name: draft.name.trim() || undefined, role: draft.role, ...(draft.password ? { password: draft.password } : {}) },
      });
      const temp = r?.one_time_password;
      setMsg({ ok: true, text: temp ? t('settings.users.createdWithPassword', { password: temp }) : t('settings.users.created') });
      setDraft({ email: '', name: '', role: 'viewer', password: '' });
      reload();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err, t('errors.generic')) });
    }
  }

  async function patch(u: User, body: Record<string, unknown>) {
    setMsg(null);
    try {
      await api(`/api/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', body });
      reload();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err, t('errors.generic')) });
    }
  }

  const isDisabled = (u: User) => Boolean(u.disabled || u.disabled_at);

  return (
    <div className="stack">
      <form className="card form-row" onSubmit={create} aria-labelledby="new-user-title">
        <h2 className="card-title" id="new-user-title">
          {t('settings.users.new')}
        </h2>
        <label className="field">
          <span>{t('auth.email')}</span>
          <input type="email" required value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('settings.users.name')}</span>
          <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('settings.users.role')}</span>
          <select value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as UserRole })}>
            {USER_ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('settings.users.initialPassword')}</span>
          <input
            type="password"
            autoComplete="new-password"
            placeholder={t('settings.users.passwordHint')}
            value={draft.password}
            onChange={(e) => setDraft({ ...draft, password: e.target.value })}
          />
        </label>
        <button type="submit" className="btn btn-primary">
          {t('settings.users.create')}
        </button>
      </form>
      {msg ? <Notice ok={msg.ok}>{msg.text}</Notice> : null}
      <ListTable
        list={list}
        count={users.length}
        emptyTitle={t('settings.users.empty')}
        columns={[t('auth.email'), t('settings.users.name'), t('settings.users.role'), t('settings.users.status'), t('settings.users.created')]}
      >
        {users.map((u) => (
          <tr key={u.id}>
            <td>{u.email}</td>
            <td>{u.name || '—'}</td>
            <td>
              <select
                aria-label={t('settings.users.roleOf', { email: u.email })}
                value={u.role}
                disabled={u.id === me?.user.id}
                onChange={(e) => void patch(u, { role: e.target.value })}
              >
                {USER_ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t(`roles.${r}`)}
                  </option>
                ))}
              </select>
            </td>
            <td>
              {isDisabled(u) ? (
                <span className="pill pill-failed">{t('settings.users.disabled')}</span>
              ) : (
                <span className="pill pill-succeeded">{t('settings.users.active')}</span>
              )}
            </td>
            <td>{f.dateTime(u.created_at)}</td>
            <td className="num">
              {u.id === me?.user.id ? (
                <span className="muted small">{t('settings.users.you')}</span>
              ) : (
                <button type="button" className="btn btn-small" onClick={() => void patch(u, { disabled: !isDisabled(u) })}>
                  {isDisabled(u) ? t('settings.users.enable') : t('settings.users.disable')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </ListTable>
    </div>
  );
}

function Keys() {
  const { t } = useTranslation();
  const f = useFormat();
  const list = useApi<unknown>('/api/keys');
  const { reload } = list;
  const keys = listOf<ApiKey>(list.data, 'keys');
  const [draft, setDraft] = useState({ name: '', role: 'ingest' as ApiKey['role'] });
  const [created, setCreated] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setMsg(null);
    try {
      const r = await api<{ key: string }>('/api/keys', { method: 'POST', body: { name: draft.name.trim() || undefined, role: draft.role } });
      setCreated(r.key);
      setDraft({ name: '', role: 'ingest' });
      reload();
    } catch (err) {
      setMsg(errorText(err, t('errors.generic')));
    }
  }

  async function revoke(k: ApiKey) {
    if (!window.confirm(t('settings.keys.confirmRevoke', { name: k.name || k.prefix }))) return;
    try {
      await api(`/api/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setMsg(errorText(err, t('errors.generic')));
    }
  }

  return (
    <div className="stack">
      <form className="card form-row" onSubmit={create} aria-labelledby="new-key-title">
        <h2 className="card-title" id="new-key-title">
          {t('settings.keys.new')}
        </h2>
        <label className="field">
          <span>{t('settings.keys.name')}</span>
          <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('settings.keys.role')}</span>
          <select value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as ApiKey['role'] })}>
            <option value="ingest">{t('settings.keys.roles.ingest')}</option>
            <option value="admin">{t('settings.keys.roles.admin')}</option>
          </select>
        </label>
        <button type="submit" className="btn btn-primary">
          {t('settings.keys.create')}
        </button>
      </form>
      {created ? (
        <div className="card alert alert-ok" role="status">
          <p>{t('settings.keys.showOnce')}</p>
          <code className="secret" data-testid="new-key">
            {created}
          </code>
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => void navigator.clipboard?.writeText(created)}>
              {t('common.copy')}
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setCreated(null)}>
              {t('common.done')}
            </button>
          </div>
        </div>
      ) : null}
      {msg ? <Notice>{msg}</Notice> : null}
      <ListTable
        list={list}
        count={keys.length}
        emptyTitle={t('settings.keys.empty')}
        columns={[t('settings.keys.name'), t('settings.keys.prefix'), t('settings.keys.role'), t('settings.keys.created'), t('settings.keys.lastUsed')]}
      >
        {keys.map((k) => (
          <tr key={k.id}>
            <td>{k.name || '—'}</td>
            <td className="mono">{k.prefix}…</td>
            <td>{t(`settings.keys.roles.${k.role}`)}</td>
            <td>{f.dateTime(k.created_at)}</td>
            <td>{f.dateTime(k.last_used_at)}</td>
            <td className="num">
              {k.revoked_at ? (
                <span className="pill pill-failed">{t('settings.keys.revoked')}</span>
              ) : (
                <button type="button" className="btn btn-small btn-danger" onClick={() => void revoke(k)}>
                  {t('settings.keys.revoke')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </ListTable>
    </div>
  );
}

/** A list's card: its error, loading and empty states, else a table with these column heads and an actions column. */
function ListTable({ list, count, emptyTitle, columns, children }: { list: Loaded<unknown>; count: number; emptyTitle: string; columns: string[]; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="card table-card">
      {list.error ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : list.loading && !list.data ? (
        <Loading />
      ) : count === 0 ? (
        <Empty title={emptyTitle} />
      ) : (
        <table className="table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
              <th scope="col">
                <span className="sr-only">{t('common.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>{children}</tbody>
        </table>
      )}
    </div>
  );
}

