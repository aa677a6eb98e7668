import { lazy, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { AuthProvider, useAuth } from './auth.tsx';
import { Layout } from './components/Layout.tsx';
import { ErrorState, Loading } from './components/States.tsx';
import { ChangePasswordPage } from './pages/ChangePassword.tsx';
import { ComingSoon } from './pages/ComingSoon.tsx';
import { LoginPage } from './pages/Login.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';

// Pages load on first visit, so the sign-in page stays small (ECharts comes with the dashboard).
const DashboardPage = lazy(() => import('./pages/Dashboard.tsx').then((m) => ({ default: m.DashboardPage })));
const CustomersPage = lazy(() => import('./pages/Customers.tsx').then((m) => ({ default: m.CustomersPage })));
const Customer360Page = lazy(() => import('./pages/Customer360.tsx').then((m) => ({ default: m.Customer360Page })));
const ReportsPage = lazy(() => import('./pages/Reports.tsx').then((m) => ({ default: m.ReportsPage })));
const SegmentsPage = lazy(() => import('./pages/Segments.tsx').then((m) => ({ default: m.SegmentsPage })));
const RiskPage = lazy(() => import('./pages/Risk.tsx').then((m) => ({ default: m.RiskPage })));
const ModelsPage = lazy(() => import('./pages/Models.tsx').then((m) => ({ default: m.ModelsPage })));
const SettingsPage = lazy(() => import('./pages/Settings.tsx').then((m) => ({ default: m.SettingsPage })));

/** Pages that need a signed-in user; must_change_password comes first. */
function RequireAuth({ children }: { children: React.ReactNode }) {
  const { me, loadError, refresh } = useAuth();
  const location = useLocation();
  if (me === undefined) return <Loading />;
  if (loadError) return <ErrorState error={loadError} onRetry={() => void refresh()} />;
  if (me === null) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (me.user.must_change_password && location.pathname !== '/change-password') return <Navigate to="/change-password" replace />;
  return <>{children}</>;
}

function Title() {
  const { t, i18n } = useTranslation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run when the language changes
  useEffect(() => {
    document.title = t('app.title');
  }, [t, i18n.language]);
  return null;
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Title />
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            path="/change-password"
            element={
              <RequireAuth>
                <ChangePasswordPage />
              </RequireAuth>
            }
          />
          <Route
            element={
              <RequireAuth>
                <Layout />
              </RequireAuth>
            }
          >
            <Route index element={<DashboardPage />} />
            <Route path="customers" element={<CustomersPage />} />
            <Route path="customers/:id" element={<Customer360Page />} />
            <Route path="segments" element={<SegmentsPage />} />
            <Route path="risk" element={<RiskPage />} />
            <Route path="automations" element={<ComingSoon area="automations" />} />
            <Route path="tickets" element={<ComingSoon area="tickets" />} />
            <Route path="loyalty" element={<ComingSoon area="loyalty" />} />
            <Route path="reports" element={<ReportsPage />} />
            <Route path="models" element={<ModelsPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}
