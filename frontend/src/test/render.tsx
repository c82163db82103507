import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { Provider } from 'react-redux';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { makeStore, type AppStore } from '../app/store';
import type { AuthState } from '../features/auth/authSlice';

/** Where the router is now, for assertions on navigation. */
export function LocationProbe() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

export function renderWithStore(
  ui: ReactElement,
  { route = '/', path = '*', auth, store }: { route?: string; path?: string; auth?: AuthState; store?: AppStore } = {},
) {
  const s = store ?? makeStore({ storage: window.localStorage, preloadedAuth: auth });
  const utils = render(
    <Provider store={s}>
      <MemoryRouter initialEntries={[route]}>
        <Routes>
          <Route path={path} element={ui} />
          {path !== "*" && <Route path="*" element={null} />}
        </Routes>
        <LocationProbe />
      </MemoryRouter>
    </Provider>,
  );
  return { store: s, ...utils };
}
