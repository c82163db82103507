import { describe, expect, it } from 'vitest';
import authReducer, {
  ENDED_NOTICE,
  EXPIRED_NOTICE,
  SESSION_KEY,
  loadSession,
  loggedIn,
  loggedOut,
  noticeCleared,
  saveSession,
  sessionEnded,
} from './auth/authSlice';
import uiReducer, { apiReachable, apiUnreachable, toastDismissed, toastShown } from './ui/uiSlice';
import { authAnswer, session, user } from '../test/fixtures';

const empty = { token: null, user: null, expiresAt: null, notice: null };

describe('auth slice', () => {
  it('logs in with the token and when it expires', () => {
    const s = authReducer(empty, loggedIn({ answer: authAnswer('abc'), now: 1000 }));
    expect(s).toEqual({ token: 'abc', user, expiresAt: 1000 + 900 * 1000, notice: null });
  });
  it('logs out to nothing', () => {
    expect(authReducer(session(), loggedOut())).toEqual(empty);
  });
  it('ends a session with a message saying why', () => {
    expect(authReducer(session(), sessionEnded({ expired: true }))).toEqual({ ...empty, notice: EXPIRED_NOTICE });
    expect(authReducer(session(), sessionEnded({ expired: false }))).toEqual({ ...empty, notice: ENDED_NOTICE });
    // nothing to end: no message
    expect(authReducer(empty, sessionEnded({ expired: true }))).toEqual(empty);
    expect(authReducer({ ...empty, notice: EXPIRED_NOTICE }, noticeCleared())).toEqual(empty);
  });
  it('a login clears the notice', () => {
    const s = authReducer({ ...empty, notice: EXPIRED_NOTICE }, loggedIn({ answer: authAnswer() }));
    expect(s.notice).toBeNull();
  });
});

describe('the stored session', () => {
  it('survives a reload', () => {
    const s = session({ expiresAt: 10_000 });
    saveSession(localStorage, s);
    expect(loadSession(localStorage, 5_000)).toEqual(s);
  });
  it('comes back expired as a notice', () => {
    saveSession(localStorage, session({ expiresAt: 10_000 }));
    expect(loadSession(localStorage, 10_000)).toEqual({ ...empty, notice: EXPIRED_NOTICE });
  });
  it('is removed at logout', () => {
    saveSession(localStorage, session());
    saveSession(localStorage, empty);
    expect(localStorage.getItem(SESSION_KEY)).toBeNull();
  });
  it('ignores garbage', () => {
    localStorage.setItem(SESSION_KEY, '{not json');
    expect(loadSession(localStorage)).toEqual(empty);
    localStorage.setItem(SESSION_KEY, JSON.stringify({ token: 1, user: null }));
    expect(loadSession(localStorage)).toEqual(empty);
    expect(loadSession(undefined)).toEqual(empty);
  });
});

describe('ui slice', () => {
  const ui0 = { apiDown: false, apiDownDetail: null, apiDownSince: null, toasts: [] };
  it('raises and lowers the unreachable banner', () => {
    const down = uiReducer(ui0, apiUnreachable('The shop cannot be reached.', 1000));
    expect(down.apiDown).toBe(true);
    expect(down.apiDownDetail).toBe('The shop cannot be reached.');
    expect(uiReducer(down, apiReachable(1001))).toEqual(ui0);
    // the Retry button lowers it whatever the timing
    expect(uiReducer(down, apiReachable())).toEqual(ui0);
  });
  it('an answer to a request older than the failure keeps the banner up', () => {
    const down = uiReducer(ui0, apiUnreachable('x', 1000));
    expect(uiReducer(down, apiReachable(999)).apiDown).toBe(true);
    // a later failure moves the mark
    const later = uiReducer(down, apiUnreachable('y', 2000));
    expect(uiReducer(later, apiReachable(1500)).apiDown).toBe(true);
    expect(uiReducer(later, apiReachable(2000)).apiDown).toBe(false);
  });
  it('keeps the three newest toasts and dismisses by id', () => {
    let s = ui0 as ReturnType<typeof uiReducer>;
    for (const t of ['a', 'b', 'c', 'd']) s = uiReducer(s, toastShown(t));
    expect(s.toasts.map((t) => t.text)).toEqual(['b', 'c', 'd']);
    s = uiReducer(s, toastDismissed(s.toasts[1]!.id));
    expect(s.toasts.map((t) => t.text)).toEqual(['b', 'd']);
    expect(uiReducer(ui0, toastShown('x', 'error')).toasts[0]!.kind).toBe('error');
  });
});
