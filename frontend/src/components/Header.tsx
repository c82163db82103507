import { useEffect, useRef, useState } from 'react';
import { Link, NavLink, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { useGetCartQuery, useLogoutMutation } from '../api/shopApi';
import { loggedOut, selectIsLoggedIn, selectUser } from '../features/auth/authSlice';
import { useDebounced } from '../lib/useDebounced';

export const SEARCH_DEBOUNCE_MS = 300;

function SearchBox() {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const onCatalog = location.pathname === '/';
  const urlQ = onCatalog ? (params.get('q') ?? '') : '';
  const [text, setText] = useState(urlQ);
  const typed = useRef(false);
  const debounced = useDebounced(text, SEARCH_DEBOUNCE_MS);

  // the URL wins when it changes by itself (back button, a link)
  useEffect(() => {
    if (!typed.current) setText(urlQ);
  }, [urlQ]);

  useEffect(() => {
    if (!typed.current) return;
    typed.current = false;
    if (debounced.trim() === urlQ.trim()) return;
    const next = new URLSearchParams(onCatalog ? params : undefined);
    if (debounced.trim()) next.set('q', debounced.trim());
    else next.delete('q');
    next.delete('page');
    if (debounced.trim()) next.delete('sort');
    navigate({ pathname: '/', search: next.toString() ? `?${next}` : '' }, { replace: onCatalog });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  return (
    <form
      className="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        typed.current = true;
        const next = new URLSearchParams();
        if (text.trim()) next.set('q', text.trim());
        navigate({ pathname: '/', search: next.toString() ? `?${next}` : '' });
      }}
    >
      <label htmlFor="search-input" className="visually-hidden">
        Search products
      </label>
      <input
        id="search-input"
        type="search"
        placeholder="Search products (typos welcome)"
        autoComplete="off"
        value={text}
        onChange={(e) => {
          typed.current = true;
          setText(e.target.value);
        }}
      />
    </form>
  );
}

function CartBadge() {
  const loggedIn = useAppSelector(selectIsLoggedIn);
  const { data } = useGetCartQuery(undefined, { skip: !loggedIn });
  const count = loggedIn ? (data?.item_count ?? 0) : 0;
  return (
    <NavLink to="/cart" className="cart-link" aria-label={`Cart, ${count} ${count === 1 ? 'item' : 'items'}`}>
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
        <path
          d="M3 4h2l2.4 11.2a1 1 0 0 0 1 .8h8.9a1 1 0 0 0 1-.8L20 8H6.2"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.8"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
        <circle cx="9.5" cy="19.5" r="1.5" fill="currentColor" />
        <circle cx="17" cy="19.5" r="1.5" fill="currentColor" />
      </svg>
      <span className="badge" data-testid="cart-count">
        {count}
      </span>
    </NavLink>
  );
}

function Account() {
  const user = useAppSelector(selectUser);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [logout, { isLoading }] = useLogoutMutation();
  if (!user) {
    return (
      <div className="account">
        <NavLink to="/login">Log in</NavLink>
        <NavLink to="/register" className="btn btn-small btn-accent">
          Sign up
        </NavLink>
      </div>
    );
  }
  return (
    <div className="account">
      <NavLink to="/orders">Orders</NavLink>
      <span className="who" title={user.email}>
        {user.name}
      </span>
      <button
        type="button"
        className="btn btn-small btn-light"
        disabled={isLoading}
        onClick={async () => {
          // the server forgets the token; the page forgets it whatever the answer
          await logout()
            .unwrap()
            .catch(() => undefined);
          dispatch(loggedOut());
          navigate('/');
        }}
      >
        Log out
      </button>
    </div>
  );
}

export function Header() {
  return (
    <header className="site-header">
      <div className="header-inner">
        <Link to="/" className="brand" aria-label="shop, home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#fca311" />
            <path d="M9 12h14l-1.5 11h-11z" fill="none" stroke="#14213d" strokeWidth="2.2" strokeLinejoin="round" />
            <path d="M12.5 12v-1.5a3.5 3.5 0 0 1 7 0V12" fill="none" stroke="#14213d" strokeWidth="2.2" />
          </svg>
          <span>shop</span>
        </Link>
        <SearchBox />
        <nav className="header-nav" aria-label="Account">
          <Account />
          <CartBadge />
        </nav>
      </div>
    </header>
  );
}
