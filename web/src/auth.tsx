// Who is signed in: GET /api/auth/me on start, login and logout, and the
// broadcast 401 that sends the app back to the login page.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, api, UNAUTHORIZED_EVENT } from './api.ts';
import { normaliseLanguage, setLanguage, storedLanguage } from './i18n/index.ts';
import type { Me, User } from './types.ts';

interface AuthState {
  /** undefined while the first /me is in flight; null when signed out. */
  me: Me | null | undefined;
  /** Set when /me failed for a reason other than 401 (server down, …). */
  loadError: ApiError | null;
  login(email: string, password: string): Promise<User>;
  logout(): Promise<void>;
  refresh(): Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<ApiError | null>(null);

  const refresh = useCallback(async () => {
    try {
      const m = await api<Me>('/api/auth/me', { quiet401: true });
      setMe(m);
      setLoadError(null);
      // The user's own language when they have not picked one on this browser.
      const l = normaliseLanguage(m.user.locale);
      if (!storedLanguage() && l) setLanguage(l, false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setMe(null);
        setLoadError(null);
      } else {
        setMe(null);
        setLoadError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
      }
    }
  }, []);

  useEffect(() => {
    void refresh();
    const onUnauthorized = () => setMe(null);
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [refresh]);

  const login = useCallback(
    async (email: string, password: string) => {
      const r = await api<{ user: User }>('/api/auth/login', { method: 'POST', body: { email, password }, quiet401: true });
      await refresh();
      return r.user;
    },
    [refresh],
  );

  const logout = useCallback(async () => {
    try {
      await api('/api/auth/logout', { method: 'POST', quiet401: true });
    } finally {
      setMe(null);
    }
  }, []);

  const value = useMemo(() => ({ me, loadError, login, logout, refresh }), [me, loadError, login, logout, refresh]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
