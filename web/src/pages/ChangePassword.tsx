import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { ApiError, api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { LanguageSwitch } from '../components/LanguageSwitch.tsx';

export const MIN_PASSWORD = 8;

export function ChangePasswordPage() {
  const { t } = useTranslation();
  const { me, refresh, logout } = useAuth();
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const forced = me?.user.must_change_password ?? false;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (next.length < MIN_PASSWORD) return setError(t('password.tooShort', { n: MIN_PASSWORD }));
    if (next !== confirm) return setError(t('password.mismatch'));
    if (next === current) return setError(t('password.same'));
    setBusy(true);
    try {
      await api('/api/auth/password', { method: 'POST', body: { current, next } });
      await refresh();
      navigate('/', { replace: true });
    } catch (err) {
      const ae = err instanceof ApiError ? err : null;
      if (ae?.field === 'current' || ae?.code === 'wrong_password') setError(t('password.wrongCurrent'));
      else setError(ae?.message ?? t('errors.generic'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <div className="auth-lang">
        <LanguageSwitch />
      </div>
      <form className="auth-card" onSubmit={submit} noValidate aria-labelledby="pw-title">
        <h1 id="pw-title">{t('password.title')}</h1>
        <p className="muted">{forced ? t('password.mustChange') : t('password.subtitle')}</p>
        {error ? (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        ) : null}
        <label className="field">
          <span>{t('password.current')}</span>
          <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('password.next')}</span>
          <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('password.confirm')}</span>
          <input type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {t('password.save')}
        </button>
        {forced ? (
          <button type="button" className="btn btn-ghost btn-block" onClick={() => void logout().then(() => navigate('/login'))}>
            {t('auth.logout')}
          </button>
        ) : (
          <button type="button" className="btn btn-ghost btn-block" onClick={() => navigate(-1)}>
            {t('common.cancel')}
          </button>
        )}
      </form>
    </div>
  );
}
