import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { useAuth } from '../auth.tsx';
import { AuthForm } from '../components/AuthForm.tsx';
import { useSubmit } from '../hooks.ts';

export function LoginPage() {
  const { t } = useTranslation();
  const { me, login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useSubmit({
    check: () => (!email.trim() || !password ? t('auth.missingFields') : null),
    run: async () => {
      const user = await login(email.trim(), password);
      navigate(user.must_change_password ? '/change-password' : from, { replace: true });
    },
    explain: (ae) => {
      if (ae?.status === 401 || ae?.status === 400) return t('auth.badCredentials');
      if (ae?.status === 403) return t('auth.disabled');
      if (ae?.status === 429) return t('auth.tooMany');
      if (ae?.status === 0) return t('errors.network');
      return null;
    },
  });

  if (me) return <Navigate to={me.user.must_change_password ? '/change-password' : from} replace />;

  return (
    <AuthForm
      labelledBy="login-title"
      error={error}
      onSubmit={submit}
      head={
        <>
          <div className="brand brand-lg">
            <span className="brand-mark" aria-hidden="true">
              留
            </span>
            <span className="brand-name">{t('app.name')}</span>
          </div>
          <h1 id="login-title">{t('auth.title')}</h1>
          <p className="muted">{t('auth.subtitle')}</p>
        </>
      }
    >
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
    </AuthForm>
  );
}
