// The signed-in shell: sidebar navigation, a top bar with the workspace, the
// language switch and the user, and the page.
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from '../auth.tsx';
import { Icon } from './Icon.tsx';
import { LanguageSwitch } from './LanguageSwitch.tsx';
import { Loading } from './States.tsx';

export const NAV = [
  { to: '/', key: 'dashboard', end: true },
  { to: '/customers', key: 'customers' },
  { to: '/segments', key: 'segments' },
  { to: '/risk', key: 'risk' },
  { to: '/automations', key: 'automations' },
  { to: '/tickets', key: 'tickets' },
  { to: '/loyalty', key: 'loyalty' },
  { to: '/reports', key: 'reports' },
  { to: '/models', key: 'models' },
  { to: '/settings', key: 'settings' },
] as const;

export function Layout() {
  const { t } = useTranslation();
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  if (!me) return null;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('common.skipToContent')}
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            留
          </span>
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <nav aria-label={t('nav.label')}>
          <ul>
            {NAV.map((n) => (
              <li key={n.key}>
                <NavLink to={n.to} end={'end' in n ? n.end : false} className={({ isActive }) => (isActive ? 'active' : '')}>
                  <Icon name={n.key} />
                  <span>{t(`nav.${n.key}`)}</span>
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot muted small">{me.workspace.name}</div>
      </aside>
      <div className="main-col">
        <header className="topbar">
          <div className="topbar-title">{me.workspace.name}</div>
          <div className="topbar-right">
            <LanguageSwitch />
            <div className="user-chip" title={me.user.email}>
              <span className="avatar" aria-hidden="true">
                {(me.user.name || me.user.email).slice(0, 1).toUpperCase()}
              </span>
              <span className="user-name">{me.user.name || me.user.email}</span>
              <span className="badge">{t(`roles.${me.user.role}`)}</span>
            </div>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={async () => {
                await logout();
                navigate('/login');
              }}
            >
              <Icon name="logout" size={16} />
              <span>{t('auth.logout')}</span>
            </button>
          </div>
        </header>
        <main id="main" className="content" tabIndex={-1}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}
