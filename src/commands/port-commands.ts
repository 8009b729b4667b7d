// Open Port URL: offers the ports a server listens on inside the sandbox (found through the SDK,
// so it works on E2B cloud too), or says that nothing listens and how to start a server; a typed
// port that nothing listens on is confirmed before a browser tab opens on an error page.
import type { Sandbox } from 'e2b';
import * as vscode from 'vscode';
import { ListeningPort, listListeningPorts } from '../connection/listening-ports';
import { askPort } from './inputs';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

/** What the port pick offered (announced so tests, like users, can see it). */
export interface PortOffer {
  sandboxId: string;
  /** The listening ports, or undefined when they could not be listed. */
  ports: ListeningPort[] | undefined;
  /** The pick's placeholder: what the user is told. */
  message: string;
}

interface PortPick extends vscode.QuickPickItem {
  action: 'port' | 'other' | 'terminal';
  port?: number;
}

const START_A_SERVER = 'Start a server listening on 0.0.0.0 (e.g. python3 -m http.server 8000)';

export class PortOpener implements vscode.Disposable {
  private readonly offered = new vscode.EventEmitter<PortOffer>();
  readonly onDidOffer = this.offered.event;

  constructor(private readonly services: Services) {}

  /** Opens the URL of a port of a sandbox in the browser; the URL, or undefined when cancelled. */
  async open(arg?: unknown, portArg?: number): Promise<string | undefined> {
    const id = await resolveSandboxId(this.services, arg, 'Sandbox whose port to open');
    if (!id) return undefined;
    // A caller that names the port has decided: no listing, no question.
    const port = portArg ?? (await this.choosePort(id));
    if (port === undefined) return undefined;
    const url = await this.services.sandboxes.portUrl(id, port);
    await vscode.env.openExternal(vscode.Uri.parse(url));
    return url;
  }

  private async choosePort(sandboxId: string): Promise<number | undefined> {
    // A paused or gone sandbox fails here, with the message that says what to do.
    const sandbox = await this.services.sandboxHandles.get(sandboxId);
    const ports = await this.listPorts(sandboxId, sandbox);
    const picks: PortPick[] = (ports ?? []).map((p) => ({
      label: `$(radio-tower) ${p.port}`,
      description: p.process,
      action: 'port',
      port: p.port,
    }));
    if (ports?.length === 0) {
      picks.push({
        label: '$(terminal) Open a Terminal in the Sandbox',
        detail: `${START_A_SERVER}, then open its port.`,
        action: 'terminal',
      });
    }
    picks.push({ label: '$(edit) Other port…', description: 'type a port number', action: 'other' });
    const message =
      ports === undefined
        ? `Could not list the ports listening in ${sandboxId}: type the port`
        : ports.length === 0
          ? `Nothing is listening in ${sandboxId} yet. ${START_A_SERVER}.`
          : 'Port to open in the browser (servers listening in the sandbox)';
    this.offered.fire({ sandboxId, ports, message });
    const choice = await vscode.window.showQuickPick(picks, {
      title: `Open a port of ${sandboxId}`,
      placeHolder: message,
      matchOnDescription: true,
    });
    if (!choice) return undefined;
    if (choice.action === 'port') return choice.port;
    if (choice.action === 'terminal') {
      await vscode.commands.executeCommand('e2b.openTerminal', sandboxId);
      return undefined;
    }
    const typed = await askPort(`Open a port of ${sandboxId}`);
    return typed === undefined ? undefined : this.confirmTyped(sandboxId, sandbox, typed);
  }

  /** The listening ports, or undefined (logged) when they cannot be listed: the user can still type one. */
  private async listPorts(sandboxId: string, sandbox: Sandbox): Promise<ListeningPort[] | undefined> {
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Looking for servers in ${sandboxId}` },
        () => listListeningPorts(sandbox),
      );
    } catch (err) {
      this.services.log.warn(`Could not list the listening ports of ${sandboxId}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** A typed port nothing listens on (asked again now: a server may have started meanwhile) opens only if the user insists. */
  private async confirmTyped(sandboxId: string, sandbox: Sandbox, port: number): Promise<number | undefined> {
    const ports = await this.listPorts(sandboxId, sandbox);
    if (!ports || ports.some((p) => p.port === port)) return port;
    const open = await vscode.window.showWarningMessage(
      `Nothing is listening on port ${port} in ${sandboxId}.`,
      {
        modal: true,
        detail: `The page will show an error until a server listens on 0.0.0.0:${port} (e.g. python3 -m http.server ${port}).`,
      },
      'Open Anyway',
    );
    return open === 'Open Anyway' ? port : undefined;
  }

  dispose(): void {
    this.offered.dispose();
  }
}
