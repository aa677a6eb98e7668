import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { AuthForm } from '../components/AuthForm.tsx';
import { useSubmit } from '../hooks.ts';

export const MIN_PASSWORD = 8;

export function ChangePasswordPage() {
  const { t } = useTranslation();
  const { me, refresh, logout } = useAuth();
  const navigate = useNavigate();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const forced = me?.user.must_change_password ?? false;
  const { error, busy, submit } = useSubmit({
    check: () => {
      if (next.length < MIN_PASSWORD) return t('password.tooShort', { n: MIN_PASSWORD });
      if (next !== confirm) return t('password.mismatch');
      if (next === current) return t('password.same');
      return null;
    },
    run: async () => {
      await api('/api/auth/password', { method: 'POST', body: { current, next } });
      await refresh();
      navigate('/', { replace: true });
    },
    explain: (ae) => (ae?.field === 'current' || ae?.code === 'wrong_password' ? t('password.wrongCurrent') : null),
  });

  return (
    <AuthForm
      labelledBy="pw-title"
      error={error}
      onSubmit={submit}
      head={
        <>
          <h1 id="pw-title">{t('password.title')}</h1>
          <p className="muted">{forced ? t('password.mustChange') : t('password.subtitle')}</p>
        </>
      }
    >
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
    </AuthForm>
  );
}
