// Settings › Churn and Settings › Scorecard: how churn is defined and tiered
// (horizon, basis, thresholds or capacity, training cut-offs, explanations) and
// the early-warning scorecard (each indicator's switch, threshold and points; the
// levels). The server validates; its message names the field at fault.
import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { ErrorState, Loading, Notice } from './States.tsx';

export interface ChurnSettings {
  horizon_days: number;
  basis: 'purchase' | 'activity';
  thresholds: { high: number; medium: number };
  capacity: number | null;
  cutoffs: number;
  cutoff_step_days: number;
  explain_top: number;
  drivers: number;
}

interface Indicator {
  key: string;
  points: number;
  threshold: number;
  enabled: boolean;
  text: { en: string; 'zh-CN': string };
  default_points: number;
  default_threshold: number;
}

interface Scorecard {
  levels: { high: number; medium: number };
  default_levels: { high: number; medium: number };
  indicators: Indicator[];
}

type Msg = { ok: boolean; text: string } | null;

/**
 * Saves through PUT and reports the outcome; the server's message on failure,
 * after the label of the field at fault when the form knows it (`labelOf`).
 */
function useSave<T>(path: string, onSaved: (saved: T) => void, savedKey = 'settings.churn.saved', labelOf?: (field: string) => string | undefined) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<Msg>(null);
  async function save(body: unknown) {
    setBusy(true);
    setMsg(null);
    try {
      onSaved(await api<T>(path, { method: 'PUT', body }));
      setMsg({ ok: true, text: t(savedKey) });
    } catch (err) {
      const label = err instanceof ApiError && err.field ? labelOf?.(err.field) : undefined;
      setMsg({ ok: false, text: err instanceof ApiError ? (label ? `${label}: ${err.message}` : err.message) : t('errors.generic') });
    } finally {
      setBusy(false);
    }
  }
  return { busy, msg, setMsg, save };
}

/** A number input that keeps what is typed (even half-typed) and hands numbers up. */
function NumberField({ label, value, onChange, step, min, max, hint }: { label: string; value: number | null; onChange: (v: number | null) => void; step?: number; min?: number; max?: number; hint?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      <input type="number" value={value === null || Number.isNaN(value) ? '' : value} step={step ?? 1} min={min} max={max} onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))} />
      {hint ? <small className="muted">{hint}</small> : null}
    </label>
  );
}

const pct = (v: number) => Math.round(v * 1000) / 10;
/** A cleared field is NaN, so the server names it instead of a zero being saved. */
const num = (v: number | null) => (v === null ? Number.NaN : v);

/** The settings as the form edits them: the server's reply without its `defaults`. */
function withoutDefaults<T extends object>(s: T & { defaults?: unknown }): T {
  const { defaults: _d, ...rest } = s;
  return rest as T;
}

/** The outcome of the last save, "restore defaults" and save: the same under every settings form. */
function FormActions({ msg, busy, onDefaults }: { msg: Msg; busy: boolean; onDefaults: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="form-actions">
      {msg ? (
        <Notice ok={msg.ok} inline>
          {msg.text}
        </Notice>
      ) : null}
      <button type="button" className="btn btn-ghost" onClick={onDefaults}>
        {t('settings.churn.defaults')}
      </button>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {t('common.save')}
      </button>
    </div>
  );
}

/**
 * A settings section's form: loads it with the server's defaults, keeps the edits,
 * saves through PUT (the reply replaces the form), restores the defaults. `pending`
 * is what to show instead of the form while it loads or failed to.
 */
function useSettingsForm<T extends object>(path: string, savedKey?: string, labelOf?: (field: string) => string | undefined) {
  const { data, error, loading, reload } = useApi<T & { defaults: T }>(path);
  const [form, setForm] = useState<T | null>(null);
  const { busy, msg, setMsg, save } = useSave<T>(path, (s) => setForm(withoutDefaults(s)), savedKey, labelOf);
  useEffect(() => {
    if (data) setForm(withoutDefaults(data));
  }, [data]);
  const pending = error ? <ErrorState error={error} onRetry={reload} /> : loading || !form || !data ? <Loading /> : null;
  return {
    data,
    form,
    pending,
    set: (patch: Partial<T>) => setForm((f) => (f ? { ...f, ...patch } : f)),
    submit: (e: FormEvent) => {
      e.preventDefault();
      if (form) void save(form);
    },
    actions: (
      <FormActions
        msg={msg}
        busy={busy}
        onDefaults={() => {
          if (data) setForm(withoutDefaults(data.defaults));
          setMsg(null);
        }}
      />
    ),
  };
}

export function ChurnSettingsForm() {
  const { t } = useTranslation();
  const { data, form, pending, set, submit, actions } = useSettingsForm<ChurnSettings>('/api/settings/churn');
  if (pending || !form || !data) return pending;
  const byCapacity = form.capacity !== null;
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="churn-settings-title" data-testid="churn-settings">
      <h2 className="card-title" id="churn-settings-title">
        {t('settings.churn.title')}
      </h2>
      <p className="muted small">{t('settings.churn.note')}</p>
      <fieldset className="form-grid plain-fieldset">
        <NumberField label={t('settings.churn.horizon')} hint={t('settings.churn.horizonHint')} value={form.horizon_days} min={7} max={730} onChange={(v) => set({ horizon_days: num(v) })} />
        <label className="field">
          <span>{t('settings.churn.basis')}</span>
          <select value={form.basis} onChange={(e) => set({ basis: e.target.value as ChurnSettings['basis'] })}>
            <option value="purchase">{t('settings.churn.basisPurchase')}</option>
            <option value="activity">{t('settings.churn.basisActivity')}</option>
          </select>
        </label>
        <label className="field">
          <span>{t('settings.churn.tierBy')}</span>
          <select value={byCapacity ? 'capacity' : 'thresholds'} onChange={(e) => set({ capacity: e.target.value === 'capacity' ? (data.capacity ?? 200) : null })}>
            <option value="thresholds">{t('settings.churn.tierByThresholds')}</option>
            <option value="capacity">{t('settings.churn.tierByCapacity')}</option>
          </select>
        </label>
        {byCapacity ? (
          <NumberField label={t('settings.churn.capacity')} hint={t('settings.churn.capacityHint')} value={form.capacity} min={0} onChange={(v) => set({ capacity: v === null ? 0 : v })} />
        ) : (
          <span />
        )}
        <NumberField
          label={t('settings.churn.high')}
          hint={byCapacity ? t('settings.churn.thresholdsWithCapacity') : undefined}
          value={pct(form.thresholds.high)}
          step={0.1}
          min={0}
          max={100}
          onChange={(v) => set({ thresholds: { ...form.thresholds, high: num(v) / 100 } })}
        />
        <NumberField label={t('settings.churn.medium')} value={pct(form.thresholds.medium)} step={0.1} min={0} max={100} onChange={(v) => set({ thresholds: { ...form.thresholds, medium: num(v) / 100 } })} />
        <NumberField label={t('settings.churn.cutoffs')} hint={t('settings.churn.cutoffsHint')} value={form.cutoffs} min={2} max={60} onChange={(v) => set({ cutoffs: num(v) })} />
        <NumberField label={t('settings.churn.cutoffStep')} value={form.cutoff_step_days} min={1} max={365} onChange={(v) => set({ cutoff_step_days: num(v) })} />
        <NumberField label={t('settings.churn.explainTop')} hint={t('settings.churn.explainTopHint')} value={form.explain_top} min={0} onChange={(v) => set({ explain_top: num(v) })} />
        <NumberField label={t('settings.churn.drivers')} value={form.drivers} min={1} max={10} onChange={(v) => set({ drivers: num(v) })} />
      </fieldset>
      {actions}
    </form>
  );
}

export function ScorecardForm() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const { data, error, loading, reload } = useApi<Scorecard>('/api/settings/scorecard');
  const [card, setCard] = useState<Scorecard | null>(null);
  const { busy, msg, setMsg, save } = useSave<Scorecard>('/api/settings/scorecard', setCard);
  useEffect(() => {
    if (data) setCard(data);
  }, [data]);
  if (error) return <ErrorState error={error} onRetry={reload} />;
  if (loading || !card) return <Loading />;

  const setIndicator = (key: string, patch: Partial<Indicator>) => setCard({ ...card, indicators: card.indicators.map((i) => (i.key === key ? { ...i, ...patch } : i)) });
  const maxPoints = card.indicators.filter((i) => i.enabled).reduce((a, i) => a + i.points, 0);
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!card) return;
    void save({ levels: card.levels, indicators: card.indicators.map(({ key, points, threshold, enabled }) => ({ key, points, threshold, enabled })) });
  }
  function defaults() {
    if (!card) return;
    setCard({ ...card, levels: card.default_levels, indicators: card.indicators.map((i) => ({ ...i, points: i.default_points, threshold: i.default_threshold, enabled: true })) });
    setMsg(null);
  }
  return (
    <form className="stack" onSubmit={submit} data-testid="scorecard-settings">
      <div className="card stack">
        <h2 className="card-title">{t('settings.scorecard.title')}</h2>
        <p className="muted small">{t('settings.scorecard.note', { n: card.indicators.length })}</p>
        <fieldset className="form-row plain-fieldset">
          <NumberField label={t('settings.scorecard.high')} value={card.levels.high} min={1} max={100} onChange={(v) => setCard({ ...card, levels: { ...card.levels, high: num(v) } })} />
          <NumberField label={t('settings.scorecard.medium')} value={card.levels.medium} min={1} max={100} onChange={(v) => setCard({ ...card, levels: { ...card.levels, medium: num(v) } })} />
          <span className="muted small" data-testid="scorecard-max">
            {t('settings.scorecard.maxPoints', { n: maxPoints })}
          </span>
        </fieldset>
      </div>
      <div className="card table-card">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('settings.scorecard.on')}</th>
              <th scope="col">{t('settings.scorecard.indicator')}</th>
              <th scope="col" className="num">
                {t('settings.scorecard.threshold')}
              </th>
              <th scope="col" className="num">
                {t('settings.scorecard.points')}
              </th>
              <th scope="col" className="num">
                {t('settings.scorecard.default')}
              </th>
            </tr>
          </thead>
          <tbody>
            {card.indicators.map((i) => (
              <tr key={i.key} data-key={i.key}>
                <td>
                  <input type="checkbox" aria-label={t('settings.scorecard.enable', { name: i.text[lang] })} checked={i.enabled} onChange={(e) => setIndicator(i.key, { enabled: e.target.checked })} />
                </td>
                <td className={i.enabled ? '' : 'muted'}>{i.text[lang]}</td>
                <td className="num">
                  <input
                    type="number"
                    className="num-input"
                    step="any"
                    aria-label={t('settings.scorecard.thresholdOf', { name: i.text[lang] })}
                    value={Number.isNaN(i.threshold) ? '' : i.threshold}
                   
                    onChange={(e) => setIndicator(i.key, { threshold: e.target.value === '' ? Number.NaN : Number(e.target.value) })}
                  />
                </td>
                <td className="num">
                  <input
                    type="number"
                    className="num-input"
                    min={0}
                    max={100}
                    aria-label={t('settings.scorecard.pointsOf', { name: i.text[lang] })}
                    value={Number.isNaN(i.points) ? '' : i.points}
                   
                    onChange={(e) => setIndicator(i.key, { points: e.target.value === '' ? Number.NaN : Number(e.target.value) })}
                  />
                </td>
                <td className="num muted small">
                  {i.default_threshold} / {i.default_points}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <FormActions msg={msg} busy={busy} onDefaults={defaults} />
    </form>
  );
}

interface ClvSettings {
  model: 'bgnbd' | 'pareto-nbd';
  margin: number;
  monthly_discount_rate: number;
  holdout_weeks: number;
}

/** Settings › CLV: the purchase model, the margin and discount rate of the 12-month CLV, the backtest's holdout. */
export function ClvSettingsForm() {
  const { t } = useTranslation();
  const { form, pending, set, submit, actions } = useSettingsForm<ClvSettings>('/api/settings/clv', 'settings.clv.saved');
  if (pending || !form) return pending;
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="clv-settings-title" data-testid="clv-settings">
      <h2 className="card-title" id="clv-settings-title">
        {t('settings.clv.title')}
      </h2>
      <p className="muted small">{t('settings.clv.note')}</p>
      <fieldset className="form-grid plain-fieldset">
        <label className="field">
          <span>{t('settings.clv.model')}</span>
          <select value={form.model} onChange={(e) => set({ model: e.target.value as ClvSettings['model'] })}>
            <option value="bgnbd">BG/NBD</option>
            <option value="pareto-nbd">Pareto/NBD</option>
          </select>
        </label>
        <NumberField label={t('settings.clv.margin')} hint={t('settings.clv.marginHint')} value={pct(form.margin)} step={0.1} min={0} max={100} onChange={(v) => set({ margin: num(v) / 100 })} />
        <NumberField label={t('settings.clv.discount')} value={pct(form.monthly_discount_rate)} step={0.1} min={0} max={99} onChange={(v) => set({ monthly_discount_rate: num(v) / 100 })} />
        <NumberField label={t('settings.clv.holdout')} hint={t('settings.clv.holdoutHint')} value={form.holdout_weeks} min={1} max={104} onChange={(v) => set({ holdout_weeks: num(v) })} />
      </fieldset>
      {actions}
    </form>
  );
}

/**
 * One number of a settings section: its wire key, and how the form shows it
 * (percent: 0.5 shows as 50). `step` must divide every sensible value from `min`,
 * or the browser refuses to submit the form without saying much.
 */
interface NumberSpec {
  key: string;
  min?: number;
  max?: number;
  step?: number;
  percent?: boolean;
}

/**
 * A settings section made only of numbers (next-best product, clustering):
 * labels and hints come from `settings.<section>.<key>` and `…<key>Hint`.
 */
function NumbersForm({ path, section, fields }: { path: string; section: string; fields: NumberSpec[] }) {
  const { t, i18n } = useTranslation();
  const labelOf = (field: string) => (fields.some((f) => f.key === field) ? t(`settings.${section}.${field}`) : undefined);
  const { form, pending, set, submit, actions } = useSettingsForm<Record<string, number>>(path, `settings.${section}.saved`, labelOf);
  if (pending || !form) return pending;
  const hint = (key: string) => (i18n.exists(`settings.${section}.${key}Hint`) ? t(`settings.${section}.${key}Hint`) : undefined);
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${section}-settings-title`} data-testid={`${section}-settings`}>
      <h2 className="card-title" id={`${section}-settings-title`}>
        {t(`settings.${section}.title`)}
      </h2>
      <p className="muted small">{t(`settings.${section}.note`)}</p>
      <fieldset className="form-grid plain-fieldset">
        {fields.map((f) => (
          <NumberField
            key={f.key}
            label={t(`settings.${section}.${f.key}`)}
            hint={hint(f.key)}
            value={f.percent ? pct(form[f.key] ?? Number.NaN) : (form[f.key] ?? null)}
            step={f.step}
            min={f.min}
            max={f.max}
            onChange={(v) => set({ [f.key]: f.percent ? num(v) / 100 : num(v) })}
          />
        ))}
      </fieldset>
      {actions}
    </form>
  );
}

const NEXT_PRODUCT_FIELDS: NumberSpec[] = [
  { key: 'max_lag_days', min: 1, max: 3650 },
  { key: 'min_customers', min: 1 },
  { key: 'min_lift', min: 0, step: 0.1 },
  { key: 'min_repeat_buyers', min: 1 },
  { key: 'min_repeat_share', min: 0, max: 100, step: 0.1, percent: true },
  { key: 'due_factor', min: 0.01, max: 10, step: 0.01 },
  { key: 'recent_days', min: 0, max: 3650 },
  { key: 'per_customer', min: 1, max: 20 },
];
const CLUSTER_FIELDS: NumberSpec[] = [
  { key: 'k_min', min: 2, max: 12 },
  { key: 'k_max', min: 2, max: 12 },
  { key: 'sample', min: 100, step: 100 },
  { key: 'every_days', min: 1, max: 365 },
  { key: 'seed', min: 0 },
];

/** Settings › Recommendations & clusters: how next-best products are picked and how customers are clustered. */
export function PredictionSettingsForms() {
  return (
    <div className="stack">
      <NumbersForm path="/api/settings/next-products" section="nextProducts" fields={NEXT_PRODUCT_FIELDS} />
      <NumbersForm path="/api/settings/clusters" section="clusters" fields={CLUSTER_FIELDS} />
    </div>
  );
}
