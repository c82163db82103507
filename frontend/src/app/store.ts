import { combineReducers, configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { shopApi } from '../api/shopApi';
import authReducer, { loadSession, saveSession, type AuthState } from '../features/auth/authSlice';
import uiReducer from '../features/ui/uiSlice';

const rootReducer = combineReducers({
  auth: authReducer,
  ui: uiReducer,
  [shopApi.reducerPath]: shopApi.reducer,
});

export type RootState = ReturnType<typeof rootReducer>;

export function makeStore(options: { storage?: Storage; preloadedAuth?: AuthState } = {}) {
  const storage = options.storage;
  const auth = options.preloadedAuth ?? loadSession(storage);
  const store = configureStore({
    reducer: rootReducer,
    preloadedState: { auth } as Partial<RootState>,
    middleware: (getDefault) => getDefault().concat(shopApi.middleware),
  });
  // Keep the session in storage; drop every cached answer when the user
  // changes (logout, session ended, another login): a cart or an order
  // list must never outlive its owner.
  let last = store.getState().auth;
  store.subscribe(() => {
    const now = store.getState().auth;
    if (now === last) return;
    const userChanged = now.token !== last.token;
    last = now;
    saveSession(storage, now);
    if (userChanged) store.dispatch(shopApi.util.resetApiState());
  });
  setupListeners(store.dispatch);
  return store;
}

export type AppStore = ReturnType<typeof makeStore>;
export type AppDispatch = AppStore['dispatch'];
