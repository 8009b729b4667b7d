// "Create Sandbox…": a short wizard (template, timeout, metadata, env vars, auto-pause), then a
// cancellable progress notification. Called with an options object it skips the wizard.
import * as vscode from 'vscode';
import { CreateSandboxOptions } from '../connection/sandbox-service';
import { invalidEnvVarNames, parseKeyValueList } from '../views/sandbox-presentation';
import { askMinutes } from './inputs';
import { registerCommand, Services } from './services';

export interface CreateSandboxArgs {
  template?: string;
  timeoutMinutes?: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  autoPause?: boolean;
  /** Make it the window's active sandbox (default true). */
  activate?: boolean;
}

export function registerCreateSandbox(services: Services): void {
  registerCommand(services, 'e2b.createSandbox', async (args?: CreateSandboxArgs) => {
    const options = args && typeof args === 'object' && !('kind' in args) ? fromArgs(args) : await askForOptions(services);
    if (!options) return undefined;
    const sandbox = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Creating a sandbox from "${options.template}"…`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        const subscription = token.onCancellationRequested(() => abort.abort());
        try {
          const created = await services.sandboxes.create(options, abort.signal);
          // Cancelled after the server made it: kill it, so no half-created sandbox is left.
          if (token.isCancellationRequested) {
            await services.sandboxes.kill(created.sandboxId).catch(() => undefined);
            return undefined;
          }
          return created;
        } finally {
          subscription.dispose();
        }
      },
    );
    if (!sandbox) return undefined;
    services.log.info(`created sandbox ${sandbox.sandboxId} from ${options.template}`);
    if (args?.activate !== false) await services.active.set(sandbox.sandboxId);
    services.refresher.refreshNow();
    return sandbox.sandboxId;
  });
}

function fromArgs(args: CreateSandboxArgs): CreateSandboxOptions {
  const config = vscode.workspace.getConfiguration('e2b');
  return {
    template: args.template ?? config.get<string>('create.defaultTemplate', 'base'),
    timeoutMs: (args.timeoutMinutes ?? config.get<number>('create.defaultTimeoutMinutes', 15)) * 60_000,
    metadata: args.metadata,
    envs: { ...defaultEnvVars(), ...args.envs },
    autoPause: args.autoPause,
  };
}

/** Sandbox-scope env vars from settings; the wizard's or caller's own win. */
function defaultEnvVars(): Record<string, string> {
  return vscode.workspace.getConfiguration('e2b').get<Record<string, string>>('create.envVars', {});
}

async function askForOptions(services: Services): Promise<CreateSandboxOptions | undefined> {
  const config = vscode.workspace.getConfiguration('e2b');
  const title = 'Create E2B Sandbox';
  const defaultTemplate = config.get<string>('create.defaultTemplate', 'base');
  const templates = await services.sandboxes.listTemplates();
  const template = templates.length > 0
    ? (await vscode.window.showQuickPick(
      [defaultTemplate, ...templates.filter((t) => t !== defaultTemplate)].map((t) => ({ label: t })),
      { title: `${title} (1/5): template`, placeHolder: 'Template to start from' },
    ))?.label
    : await vscode.window.showInputBox({ title: `${title} (1/5): template`, value: defaultTemplate, prompt: 'Template name or ID' });
  if (!template) return undefined;

  const minutes = await askMinutes(`${title} (2/5): timeout`, 'Minutes until the sandbox is killed (you can extend it later)',
    String(config.get<number>('create.defaultTimeoutMinutes', 15)));
  if (minutes === undefined) return undefined;

  const metadataText = await vscode.window.showInputBox({
    title: `${title} (3/5): metadata`,
    prompt: 'Optional metadata as key=value pairs separated by commas (used to find and filter sandboxes)',
    placeHolder: 'user=alice, purpose=demo',
    validateInput: (v) => validate(() => parseKeyValueList(v, 'metadata')),
  });
  if (metadataText === undefined) return undefined;

  const envText = await vscode.window.showInputBox({
    title: `${title} (4/5): environment variables`,
    prompt: 'Optional environment variables for every process in the sandbox: NAME=value, separated by commas',
    placeHolder: 'API_BASE=https://example.com, DEBUG=1',
    validateInput: (v) => validate(() => {
      const bad = invalidEnvVarNames(parseKeyValueList(v, 'environment variables'));
      if (bad.length) throw new Error(`Not a valid variable name: ${bad.join(', ')}`);
    }),
  });
  if (envText === undefined) return undefined;

  const onTimeout = await vscode.window.showQuickPick(
    [{ label: 'Kill', description: 'when the timeout passes (default)', pause: false }, { label: 'Pause', description: 'when the timeout passes, keeping files and memory', pause: true }],
    { title: `${title} (5/5): on timeout` },
  );
  if (!onTimeout) return undefined;

  return {
    template,
    timeoutMs: Math.round(minutes * 60_000),
    metadata: parseKeyValueList(metadataText, 'metadata'),
    envs: { ...defaultEnvVars(), ...parseKeyValueList(envText, 'environment variables') },
    autoPause: onTimeout.pause,
  };
}

function validate(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
