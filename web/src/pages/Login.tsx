import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { LanguageSwitch } from '../components/LanguageSwitch.tsx';

export function LoginPage() {
  const { t } = useTranslation();
  const { me, login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (me) return <Navigate to={me.user.must_change_password ? '/change-password' : from} replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!email.trim() || !password) {
      setError(t('auth.missingFields'));
      return;
    }
    setBusy(true);
    try {
      const user = await login(email.trim(), password);
      navigate(user.must_change_password ? '/change-password' : from, { replace: true });
    } catch (err) {
      const ae = err instanceof ApiError ? err : null;
      if (ae?.status === 401 || ae?.status === 400) setError(t('auth.badCredentials'));
      else if (ae?.status === 403) setError(t('auth.disabled'));
      else if (ae?.status === 429) setError(t('auth.tooMany'));
      else if (ae?.status === 0) setError(t('errors.network'));
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
      <form className="auth-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div className="brand brand-lg">
          <span className="brand-mark" aria-hidden="true">
            留
          </span>
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <h1 id="login-title">{t('auth.title')}</h1>
        <p className="muted">{t('auth.subtitle')}</p>
        {error ? (
          <div className="alert alert-error" role="alert">
            {error}
          </div>
        ) : null}
        <label className="field">
          <span>{t('auth.email')}</span>
          <input
            type="email"
            name="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </label>
        <label className="field">
          <span>{t('auth.password')}</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? t('auth.signingIn') : t('auth.signIn')}
        </button>
        <p className="muted small">{t('auth.firstLoginHint')}</p>
      </form>
    </div>
  );
}
