import { useTranslation } from 'react-i18next';
import { LANGUAGES, type Language, setLanguage } from '../i18n/index.ts';

/** Two buttons, 中文 | English; the current one is pressed. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <fieldset className="lang-switch" aria-label={t('common.language')}>
      {LANGUAGES.map((l) => (
        <button
          key={l.code}
          type="button"
          lang={l.code}
          aria-pressed={i18n.language === l.code}
          className={i18n.language === l.code ? 'active' : ''}
          onClick={() => setLanguage(l.code as Language)}
        >
          {l.label}
        </button>
      ))}
    </fieldset>
  );
}
