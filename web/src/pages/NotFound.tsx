import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <div className="state">
      <div className="state-code">404</div>
      <p className="state-title">{t('errors.pageNotFound')}</p>
      <Link className="btn" to="/">
        {t('forbidden.back')}
      </Link>
    </div>
  );
}
