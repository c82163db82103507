import { useEffect } from 'react';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { toastDismissed } from '../features/ui/uiSlice';

export function Toasts() {
  const toasts = useAppSelector((s) => s.ui.toasts);
  const dispatch = useAppDispatch();
  useEffect(() => {
    if (toasts.length === 0) return;
    const first = toasts[0]!;
    const t = setTimeout(() => dispatch(toastDismissed(first.id)), 3500);
    return () => clearTimeout(t);
  }, [toasts, dispatch]);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          {t.text}
          <button type="button" aria-label="Dismiss" onClick={() => dispatch(toastDismissed(t.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
