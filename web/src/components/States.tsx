// Loading, empty and error states every page uses, so they look and read the same.
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api.ts';
import { Forbidden } from './Forbidden.tsx';

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <div className="state-body">{children}</div> : null}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const { t } = useTranslation();
  if (error.status === 403) return <Forbidden detail={error.message} />;
  const title =
    error.status === 0
      ? t('errors.network')
      : error.status === 404
        ? t('errors.notFound')
        : error.status >= 500
          ? t('errors.server')
          : t('errors.generic');
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p className="state-body muted">{error.message}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          {t('common.retry')}
        </button>
      ) : null}
    </div>
  );
}

/**
 * The outcome of a form or an action: a success is announced politely (role=status), an
 * error at once (role=alert). inline puts it in a span, beside the form's buttons.
 */
export function Notice({ ok = false, inline = false, children }: { ok?: boolean; inline?: boolean; children: ReactNode }) {
  const Tag = inline ? 'span' : 'div';
  return (
    <Tag className={ok ? 'alert alert-ok' : 'alert alert-error'} role={ok ? 'status' : 'alert'}>
      {children}
    </Tag>
  );
}
