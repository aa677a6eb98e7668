import { useTranslation } from 'react-i18next';

/** An area that is not built yet says so; it never shows made-up figures. */
export function ComingSoon({ area }: { area: string }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{t(`nav.${area}`)}</h1>
      </div>
      <div className="card state state-empty" data-testid="coming-soon">
        <p className="state-title">{t('comingSoon.title')}</p>
        <p className="state-body muted">{t(`comingSoon.${area}`)}</p>
      </div>
    </section>
  );
}
