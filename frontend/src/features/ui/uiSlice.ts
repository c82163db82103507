import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

export interface UiState {
  /** the last request could not reach the platform (network, 502/503/504) */
  apiDown: boolean;
  apiDownDetail: string | null;
  /** when the last unreachable request started (ms): only a request
   * started after it may lower the banner */
  apiDownSince: number | null;
  toasts: Toast[];
}

const initialState: UiState = { apiDown: false, apiDownDetail: null, apiDownSince: null, toasts: [] };

let nextToast = 1;

const uiSlice = createSlice({
  name: 'ui',
  initialState,
  reducers: {
    apiUnreachable: {
      reducer(state, action: PayloadAction<{ detail: string | null; startedAt: number }>) {
        state.apiDown = true;
        state.apiDownDetail = action.payload.detail;
        state.apiDownSince = Math.max(state.apiDownSince ?? 0, action.payload.startedAt);
      },
      prepare(detail: string | null, startedAt: number = Date.now()) {
        return { payload: { detail, startedAt } };
      },
    },
    /** A request got an answer. One that started before the last failure
     * says nothing about now (it may have been in flight all along). */
    apiReachable: {
      reducer(state, action: PayloadAction<{ startedAt: number | null }>) {
        const t = action.payload.startedAt;
        if (t !== null && state.apiDownSince !== null && t < state.apiDownSince) return;
        state.apiDown = false;
        state.apiDownDetail = null;
        state.apiDownSince = null;
      },
      prepare(startedAt: number | null = null) {
        return { payload: { startedAt } };
      },
    },
    toastShown: {
      reducer(state, action: PayloadAction<Toast>) {
        state.toasts.push(action.payload);
        if (state.toasts.length > 3) state.toasts.shift();
      },
      prepare(text: string, kind: Toast['kind'] = 'info') {
        return { payload: { id: nextToast++, text, kind } };
      },
    },
    toastDismissed(state, action: PayloadAction<number>) {
      state.toasts = state.toasts.filter((t) => t.id !== action.payload);
    },
  },
});

export const { apiUnreachable, apiReachable, toastShown, toastDismissed } = uiSlice.actions;
export default uiSlice.reducer;
