// The latest pipeline run with each step's status, progress, duration and
// error, and the "Run pipeline now" button for the roles that may start one.
import { useTranslation } from 'react-i18next';
import type { PipelineState } from '../analytics/pipeline.ts';
import { pick, type StepState } from '../analytics/report.ts';
import { useAuth } from '../auth.tsx';
import { useFormat } from '../format.ts';
import { ErrorState, Loading } from './States.tsx';

const STARTERS = ['admin', 'operator', 'analyst'];

export function RunPipelineButton({ p }: { p: PipelineState }) {
  const { t } = useTranslation();
  const { me } = useAuth();
  const allowed = me ? STARTERS.includes(me.user.role) : false;
  return (
    <button
      type="button"
      className="btn btn-primary"
      onClick={() => void p.start()}
      disabled={!allowed || p.active || p.starting}
      title={allowed ? undefined : t('pipeline.notAllowed')}
      data-testid="run-pipeline"
    >
      {p.active ? <span className="spinner spinner-light" aria-hidden="true" /> : null}
      {p.active ? t('pipeline.running') : t('pipeline.runNow')}
    </button>
  );
}

function duration(ms: number | undefined, lang: string): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${new Intl.NumberFormat(lang).format(ms)} ms`;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(ms / 1000)} s`;
}

function StepRow({ s }: { s: StepState }) {
  const { t, i18n } = useTranslation();
  const pct = s.progress && s.progress.total > 0 ? Math.min(100, Math.round((s.progress.done / s.progress.total) * 100)) : s.status === 'done' ? 100 : 0;
  return (
    <li className={`step step-${s.status}`} data-testid={`step-${s.name}`}>
      <span className={`step-dot dot-${s.status}`} aria-hidden="true" />
      <div className="step-body">
        <div className="step-head">
          <span className="step-title">{pick(i18n.language, s.title.en, s.title.zh)}</span>
          <span className={`pill pill-${s.status}`}>{t(`pipeline.status.${s.status}`)}</span>
          <span className="muted small step-dur">{duration(s.durationMs, i18n.language)}</span>
        </div>
        {s.status === 'running' ? (
          <div
            className="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            aria-label={pick(i18n.language, s.title.en, s.title.zh)}
          >
            <div className={`progress-bar${s.progress ? '' : ' progress-indeterminate'}`} style={s.progress ? { width: `${pct}%` } : undefined} />
          </div>
        ) : null}
        {s.status === 'running' && s.progress ? (
          <div className="muted small">
            {t('pipeline.progress', { done: new Intl.NumberFormat(i18n.language).format(s.progress.done), total: new Intl.NumberFormat(i18n.language).format(s.progress.total) })}
          </div>
        ) : null}
        {s.error ? <div className="alert alert-error small">{s.error}</div> : null}
      </div>
    </li>
  );
}

export function PipelinePanel({ p }: { p: PipelineState }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (p.loading) return <Loading />;
  const queued = p.job && (p.job.status === 'queued' || (p.run && new Date(p.run.started_at) < new Date(p.job.created_at)));
  const run = queued ? null : p.run;
  return (
    <div data-testid="pipeline-panel">
      {p.error ? <ErrorState error={p.error} /> : null}
      {queued ? (
        <p className="run-line" data-testid="pipeline-status">
          <span className="pill pill-queued">{t('pipeline.status.queued')}</span> <span className="muted">{t('pipeline.queuedNote')}</span>
        </p>
      ) : null}
      {run ? (
        <>
          <p className="run-line" data-testid="pipeline-status">
            <span className={`pill pill-${run.status}`}>{t(`pipeline.status.${run.status}`)}</span>{' '}
            <span>{t('pipeline.runNo', { id: run.id })}</span>
            <span className="muted small">
              {' · '}
              {t('pipeline.started')} {f.dateTime(run.started_at)}
              {run.finished_at ? ` · ${t('pipeline.finished')} ${f.dateTime(run.finished_at)}` : ''}
              {run.as_of ? ` · ${t('pipeline.asOf')} ${f.dateTime(run.as_of)}` : ''}
            </span>
          </p>
          <ol className="steps">
            {run.steps.map((s) => (
              <StepRow key={s.name} s={s} />
            ))}
          </ol>
          {run.error ? <div className="alert alert-error small">{run.error}</div> : null}
        </>
      ) : !queued ? (
        <p className="muted">{t('dashboard.noPipeline')}</p>
      ) : null}
      {p.job?.status === 'failed' && p.job.last_error ? <div className="alert alert-error small">{p.job.last_error}</div> : null}
    </div>
  );
}
