// i18next with the two languages Liuke ships: zh-CN (default) and English.
// The choice is remembered in localStorage; the signed-in user's locale is the
// starting point when nothing is remembered.
import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from './en.json';
import zhCN from './zh-CN.json';

export const LANGUAGES = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'liuke.lang';

export function normaliseLanguage(l: string | null | undefined): Language | null {
  if (!l) return null;
  if (l.toLowerCase().startsWith('zh')) return 'zh-CN';
  if (l.toLowerCase().startsWith('en')) return 'en';
  return null;
}

export function storedLanguage(): Language | null {
  try {
    return normaliseLanguage(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

export function setLanguage(l: Language, remember = true): void {
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // private mode: the choice lasts for this page only
    }
  }
  void i18n.changeLanguage(l);
}

const initial = storedLanguage() ?? normaliseLanguage(navigator.language) ?? 'zh-CN';

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: initial,
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
});

const syncHtmlLang = (l: string) => {
  document.documentElement.lang = l;
};
syncHtmlLang(initial);
i18n.on('languageChanged', syncHtmlLang);

export default i18n;
