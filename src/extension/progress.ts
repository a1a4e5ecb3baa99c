import * as vscode from 'vscode';

export type Report = (message: string, percent?: number) => void;

/**
 * A notification with a Cancel button whose token reaches the work as an AbortSignal, so cancel
 * stops the scan or the registration itself, not just the spinner. Reports are throttled.
 */
export function withCancellableProgress<T>(title: string, work: (report: Report, signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => controller.abort());
    let last = 0;
    let lastPercent = 0;
    const report: Report = (message, percent) => {
      const now = Date.now();
      if (now - last < 150) return;
      last = now;
      const increment = percent === undefined ? undefined : Math.max(0, percent - lastPercent);
      if (percent !== undefined) lastPercent = percent;
      progress.report({ message, increment });
    };
    try {
      return await work(report, controller.signal);
    } finally {
      sub.dispose();
    }
  });
}
