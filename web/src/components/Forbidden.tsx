import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useAuth } from '../auth.tsx';

export function Forbidden({ detail }: { detail?: string }) {
  const { t } = useTranslation();
  const { me } = useAuth();
  return (
    <div className="state state-forbidden" role="alert" data-testid="forbidden">
      <div className="state-code">403</div>
      <p className="state-title">{t('forbidden.title')}</p>
      <p className="state-body muted">
        {t('forbidden.body', { role: me ? t(`roles.${me.user.role}`) : '' })}
      </p>
      {detail ? <p className="muted small">{detail}</p> : null}
      <Link className="btn" to="/">
        {t('forbidden.back')}
      </Link>
    </div>
  );
}
