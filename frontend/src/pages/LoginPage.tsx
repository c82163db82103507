import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { useLoginMutation } from '../api/shopApi';
import { Field } from '../components/Field';
import { loggedIn, noticeCleared, selectIsLoggedIn, selectNotice } from '../features/auth/authSlice';
import { fieldErrorsOf, messageOf, statusOf } from '../lib/problem';
import { safeNext } from '../lib/next';

// The development seed account (API.md); the shortcut is compiled in by
// `npm run dev` and by builds with VITE_DEMO_LOGIN=1 (dev-up, test-all,
// compose), never by a plain `npm run build`.
export const TEST_USER = { email: 'paintest@example.com', password: 'password123' };
export const SHOW_TEST_LOGIN = import.meta.env.DEV || import.meta.env.VITE_DEMO_LOGIN === '1';

export function LoginPage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const notice = useAppSelector(selectNotice);
  const isIn = useAppSelector(selectIsLoggedIn);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [login, { isLoading, error, reset }] = useLoginMutation();
  const next = safeNext(params.get('next'));
  const reason = (location.state as { reason?: string } | null)?.reason;

  if (isIn && !isLoading) return <Navigate to={next} replace />;

  const submit = async (creds: { email: string; password: string }) => {
    try {
      const answer = await login(creds).unwrap();
      dispatch(loggedIn({ answer }));
      navigate(next, { replace: true });
    } catch {
      /* shown below */
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    dispatch(noticeCleared());
    void submit({ email: email.trim(), password });
  };

  const fields = fieldErrorsOf(error);
  const status = statusOf(error);
  const general =
    error && Object.keys(fields).length === 0
      ? status === 401
        ? 'That email and password do not match an account.'
        : messageOf(error)
      : null;

  return (
    <div className="page narrow">
      <div className="panel">
        <h1>Log in</h1>
        {notice && (
          <p className="notice" role="alert">
            {notice}
          </p>
        )}
        {!notice && reason && <p className="notice">{reason}</p>}
        <form onSubmit={onSubmit} noValidate>
          <Field
            id="login-email"
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            error={fields.email}
            onChange={(e) => {
              setEmail(e.target.value);
              if (error) reset();
            }}
          />
          <Field
            id="login-password"
            label="Password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            error={fields.password}
            onChange={(e) => {
              setPassword(e.target.value);
              if (error) reset();
            }}
          />
          {general && (
            <p className="error-note" role="alert">
              {general}
            </p>
          )}
          <button type="submit" className="btn btn-accent btn-block" disabled={isLoading}>
            {isLoading ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        {SHOW_TEST_LOGIN && (
          <button
            type="button"
            className="btn btn-ghost btn-block test-login"
            disabled={isLoading}
            onClick={() => {
              dispatch(noticeCleared());
              void submit(TEST_USER);
            }}
          >
            Log in as test user
          </button>
        )}
        <p className="muted center">
          New here? <Link to={`/register${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</Link>
        </p>
      </div>
    </div>
  );
}
