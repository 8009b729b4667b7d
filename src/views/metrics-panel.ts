// A sandbox's live metrics (CPU, memory, disk) and lifecycle events in a webview. Strict CSP:
// only our own script (with a per-page nonce) and stylesheet load; data arrives by postMessage.
// Polls only while the panel is visible. Events are fetched on their own: after a kill the
// metrics are gone but the events (ending in "killed") still say what happened.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { SandboxService } from '../connection/sandbox-service';
import type { UserFacingError } from '../connection/user-errors';

const POLL_MS = 5000;

/** What the webview drew: sample and event counts, and the event types (newest first). */
export interface Rendered {
  samples: number;
  events: number;
  types: string[];
}

export class MetricsPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, MetricsPanel>();
  private readonly panel: vscode.WebviewPanel;
  private timer?: ReturnType<typeof setTimeout>;
  private disposed = false;
  /** What the webview reported drawing last (samples, events): lets tests see it really rendered. */
  rendered: Rendered = { samples: 0, events: 0, types: [] };
  private readonly renderedEmitter = new vscode.EventEmitter<Rendered>();
  readonly onDidRender = this.renderedEmitter.event;

  static show(extensionUri: vscode.Uri, service: SandboxService, sandboxId: string): MetricsPanel {
    const existing = MetricsPanel.panels.get(sandboxId);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = new MetricsPanel(extensionUri, service, sandboxId);
    MetricsPanel.panels.set(sandboxId, panel);
    return panel;
  }

  private constructor(
    extensionUri: vscode.Uri,
    private readonly service: SandboxService,
    readonly sandboxId: string,
  ) {
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel('e2b.metrics', `Metrics: ${sandboxId.slice(0, 8)}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'; style-src ${webview.cspSource}; img-src ${webview.cspSource} data:;">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(vscode.Uri.joinPath(media, 'metrics.css'))}">
<title>Sandbox metrics</title>
</head>
<body>
<h1>Sandbox <code>${sandboxId}</code></h1>
<p id="status">Waiting for the first samples (every 5 seconds)…</p>
<section class="charts">
  <figure><figcaption>CPU <span id="cpu-now"></span></figcaption><svg id="cpu" viewBox="0 0 300 100" preserveAspectRatio="none"></svg></figure>
  <figure><figcaption>Memory <span id="mem-now"></span></figcaption><svg id="mem" viewBox="0 0 300 100" preserveAspectRatio="none"></svg></figure>
  <figure><figcaption>Disk <span id="disk-now"></span></figcaption><svg id="disk" viewBox="0 0 300 100" preserveAspectRatio="none"></svg></figure>
</section>
<h2>Lifecycle events</h2>
<ol id="events"></ol>
<script nonce="${nonce}" src="${webview.asWebviewUri(vscode.Uri.joinPath(media, 'metrics.js'))}"></script>
</body>
</html>`;
    webview.onDidReceiveMessage((message: { type: string; samples: number; events: number; types?: string[] }) => {
      if (message.type !== 'rendered') return;
      this.rendered = { samples: message.samples, events: message.events, types: message.types ?? [] };
      this.renderedEmitter.fire(this.rendered);
    });
    this.panel.onDidChangeViewState(() => {
      if (this.panel.visible) void this.poll();
    });
    this.panel.onDidDispose(() => this.dispose());
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.disposed) return;
    if (this.timer) clearTimeout(this.timer);
    const [samples, events] = await Promise.allSettled([
      this.service.getMetrics(this.sandboxId, new Date(Date.now() - 3600_000)),
      this.service.events(this.sandboxId),
    ]);
    if (this.disposed) return;
    const eventList = events.status === 'fulfilled' ? events.value : [];
    const gone = samples.status === 'rejected' && (samples.reason as UserFacingError).kind === 'sandboxGone';
    await this.panel.webview.postMessage({
      type: 'update',
      samples:
        samples.status === 'fulfilled'
          ? samples.value.map((s) => ({
              t: new Date(s.timestamp).getTime(),
              cpu: s.cpuUsedPct,
              memUsed: s.memUsed,
              memTotal: s.memTotal,
              diskUsed: s.diskUsed,
              diskTotal: s.diskTotal,
            }))
          : null,
      events: eventList.map((e) => ({ type: e.type.replace('sandbox.lifecycle.', ''), timestamp: e.timestamp })),
      status: samples.status === 'rejected' ? (samples.reason as Error).message : undefined,
    });
    // A killed sandbox has nothing more to show once its last event is in.
    const over = gone && eventList.some((e) => e.type === 'sandbox.lifecycle.killed');
    if (!this.disposed && this.panel.visible && !over) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    MetricsPanel.panels.delete(this.sandboxId);
    this.renderedEmitter.dispose();
    this.panel.dispose();
  }
}
