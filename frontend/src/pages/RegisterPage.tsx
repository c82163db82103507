import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { useRegisterMutation } from '../api/shopApi';
import { Field } from '../components/Field';
import { loggedIn, selectIsLoggedIn } from '../features/auth/authSlice';
import { fieldErrorsOf, messageOf, statusOf } from '../lib/problem';
import { safeNext } from '../lib/next';

export function RegisterPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const dispatch = useAppDispatch();
  const isIn = useAppSelector(selectIsLoggedIn);
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [register, { isLoading, error }] = useRegisterMutation();
  const next = safeNext(params.get('next'));

  if (isIn && !isLoading) return <Navigate to={next} replace />;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const answer = await register({ name: form.name.trim(), email: form.email.trim(), password: form.password }).unwrap();
      dispatch(loggedIn({ answer }));
      navigate(next, { replace: true });
    } catch {
      /* shown below */
    }
  };

  const fields = fieldErrorsOf(error);
  if (statusOf(error) === 409 && !fields.email) fields.email = messageOf(error);
  const general = error && Object.keys(fields).length === 0 ? messageOf(error) : null;
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <div className="page narrow">
      <div className="panel">
        <h1>Create your account</h1>
        <form onSubmit={onSubmit} noValidate>
          <Field id="reg-name" label="Name" autoComplete="name" value={form.name} error={fields.name} onChange={set('name')} />
          <Field
            id="reg-email"
            label="Email"
            type="email"
            autoComplete="email"
            value={form.email}
            error={fields.email}
            onChange={set('email')}
          />
          <Field
            id="reg-password"
            label="Password"
            type="password"
            autoComplete="new-password"
            hint="8 to 128 characters"
            value={form.password}
            error={fields.password}
            onChange={set('password')}
          />
          {general && (
            <p className="error-note" role="alert">
              {general}
            </p>
          )}
          <button type="submit" className="btn btn-accent btn-block" disabled={isLoading}>
            {isLoading ? 'Creating your account…' : 'Create account'}
          </button>
        </form>
        <p className="muted center">
          Already have an account? <Link to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Log in</Link>
        </p>
      </div>
    </div>
  );
}
