// Grafana shows toasts for failed requests and for appEvents alerts. The harness has no toast UI: it
// logs them, an error toast with console.error, so the browser runner fails a scenario on it the way
// a person would notice a red toast.
import { AppEvents, EventBusSrv, type EventBus } from '@grafana/data';

export type ToastKind = 'success' | 'warning' | 'error' | 'info';

export function toast(kind: ToastKind, message: string) {
  const text = `[harness toast] ${kind}: ${message}`;
  if (kind === 'error') {
    console.error(text);
  } else if (kind === 'warning') {
    console.warn(text);
  } else {
    console.info(text);
  }
}

/** The app-wide event bus (getAppEvents), with alert events turned into logged toasts. */
export function createAppEvents(): EventBus {
  const bus = new EventBusSrv();
  const legacy = bus as unknown as { on?: (event: { name: string }, handler: (payload: unknown) => void) => void };
  const render = (payload: unknown) => (Array.isArray(payload) ? payload.map(String).join(' ') : String(payload));
  legacy.on?.(AppEvents.alertSuccess, (payload) => toast('success', render(payload)));
  legacy.on?.(AppEvents.alertWarning, (payload) => toast('warning', render(payload)));
  legacy.on?.(AppEvents.alertError, (payload) => toast('error', render(payload)));
  return bus;
}
