import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { AuthAnswer, User } from '../../api/types';

export interface AuthState {
  token: string | null;
  user: User | null;
  /** when the token expires, in ms since the epoch */
  expiresAt: number | null;
  /** shown on the login page: why the shopper was sent there */
  notice: string | null;
}

export const SESSION_KEY = 'shop.session';

export const EXPIRED_NOTICE = 'Your session has expired. Please log in again.';
export const ENDED_NOTICE = 'Your session has ended. Please log in again.';

const initialState: AuthState = { token: null, user: null, expiresAt: null, notice: null };

/** The session kept in localStorage, so that a reload keeps the shopper
 * logged in; an expired one comes back as a notice. */
export function loadSession(storage: Storage | undefined, now = Date.now()): AuthState {
  if (!storage) return initialState;
  let raw: string | null = null;
  try {
    raw = storage.getItem(SESSION_KEY);
  } catch {
    return initialState;
  }
  if (!raw) return initialState;
  try {
    const s = JSON.parse(raw) as Partial<AuthState>;
    if (typeof s.token !== 'string' || !s.user || typeof s.expiresAt !== 'number') return initialState;
    if (s.expiresAt <= now) return { ...initialState, notice: EXPIRED_NOTICE };
    return { token: s.token, user: s.user, expiresAt: s.expiresAt, notice: null };
  } catch {
    return initialState;
  }
}

export function saveSession(storage: Storage | undefined, s: AuthState): void {
  if (!storage) return;
  try {
    if (s.token && s.user && s.expiresAt)
      storage.setItem(SESSION_KEY, JSON.stringify({ token: s.token, user: s.user, expiresAt: s.expiresAt }));
    else storage.removeItem(SESSION_KEY);
  } catch {
    // private mode or a full quota: the session lasts as long as the tab
  }
}

const authSlice = createSlice({
  name: 'auth',
  initialState,
  reducers: {
    loggedIn(state, action: PayloadAction<{ answer: AuthAnswer; now?: number }>) {
      const { answer, now = Date.now() } = action.payload;
      state.token = answer.access_token;
      state.user = answer.user;
      state.expiresAt = now + answer.expires_in * 1000;
      state.notice = null;
    },
    userUpdated(state, action: PayloadAction<User>) {
      if (state.user && state.user.id === action.payload.id) state.user = action.payload;
    },
    loggedOut() {
      return initialState;
    },
    /** The API refused the token (expired, revoked) or it ran out here. */
    sessionEnded(state, action: PayloadAction<{ expired: boolean }>) {
      if (!state.token) return;
      return { ...initialState, notice: action.payload.expired ? EXPIRED_NOTICE : ENDED_NOTICE };
    },
    noticeCleared(state) {
      state.notice = null;
    },
  },
});

export const { loggedIn, userUpdated, loggedOut, sessionEnded, noticeCleared } = authSlice.actions;
export default authSlice.reducer;

export const selectToken = (s: { auth: AuthState }) => s.auth.token;
export const selectUser = (s: { auth: AuthState }) => s.auth.user;
export const selectIsLoggedIn = (s: { auth: AuthState }) => !!s.auth.token;
export const selectNotice = (s: { auth: AuthState }) => s.auth.notice;
