import { useEffect } from 'react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from './app/hooks';
import { useMeQuery } from './api/shopApi';
import { ApiBanner } from './components/ApiBanner';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Header } from './components/Header';
import { RequireAuth } from './components/RequireAuth';
import { Toasts } from './components/Toasts';
import { sessionEnded, userUpdated } from './features/auth/authSlice';
import { CartPage } from './pages/CartPage';
import { CatalogPage } from './pages/CatalogPage';
import { CheckoutPage } from './pages/CheckoutPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { OrderPage } from './pages/OrderPage';
import { OrdersPage } from './pages/OrdersPage';
import { ProductPage } from './pages/ProductPage';
import { RegisterPage } from './pages/RegisterPage';

/** Ends the session when its token runs out while the page is open, and
 * checks a stored session against the server once (a token revoked
 * elsewhere comes back as a 401, which ends it). */
function SessionWatch() {
  const dispatch = useAppDispatch();
  const { token, expiresAt } = useAppSelector((s) => s.auth);
  const me = useMeQuery(undefined, { skip: !token });
  useEffect(() => {
    if (me.data) dispatch(userUpdated(me.data));
  }, [me.data, dispatch]);
  useEffect(() => {
    if (!token || !expiresAt) return;
    const ms = expiresAt - Date.now();
    // setTimeout holds at most 2^31-1 ms
    const t = setTimeout(() => dispatch(sessionEnded({ expired: true })), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [token, expiresAt, dispatch]);
  return null;
}

function ScrollToTop() {
  const { pathname } = useLocation();
  useEffect(() => {
    window.scrollTo?.({ top: 0 });
  }, [pathname]);
  return null;
}

export function App() {
  const location = useLocation();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <SessionWatch />
      <ScrollToTop />
      <Header />
      <ApiBanner />
      <main id="main" tabIndex={-1}>
        {/* a new page gets a fresh boundary: an error on one page does not stick to the next */}
        <ErrorBoundary key={location.pathname}>
          <Routes>
            <Route path="/" element={<CatalogPage />} />
            <Route path="/products/:id" element={<ProductPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route
              path="/cart"
              element={
                <RequireAuth>
                  <CartPage />
                </RequireAuth>
              }
            />
            <Route
              path="/checkout"
              element={
                <RequireAuth>
                  <CheckoutPage />
                </RequireAuth>
              }
            />
            <Route
              path="/orders"
              element={
                <RequireAuth>
                  <OrdersPage />
                </RequireAuth>
              }
            />
            <Route
              path="/orders/:id"
              element={
                <RequireAuth>
                  <OrderPage />
                </RequireAuth>
              }
            />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </ErrorBoundary>
      </main>
      <footer className="site-footer">
        <p>
          shop — a demo store. Payments are simulated: use the test cards at checkout.
        </p>
      </footer>
      <Toasts />
    </>
  );
}
