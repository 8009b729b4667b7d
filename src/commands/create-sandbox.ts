// "Create Sandbox…": first "create with defaults" (one Enter), or a short wizard (template,
// timeout, metadata, env vars, auto-pause) ending in a summary to confirm; then a cancellable
// progress notification. Called with an options object it skips the wizard.
import * as vscode from 'vscode';
import { CreateSandboxOptions } from '../connection/sandbox-service';
import { describeNewSandbox, invalidEnvVarNames, parseKeyValueList } from '../views/sandbox-presentation';
import { DEFAULT_TAG } from '../views/templates-tree';
import { askMinutes, askText, pickOne } from './inputs';
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
  const defaults = fromArgs({});
  const start = await pickOne(
    [
      { label: '$(rocket) Create with defaults', description: describeNewSandbox(defaults), custom: false },
      { label: '$(settings-gear) Choose template, timeout, metadata…', description: 'a few steps, then a summary to confirm', custom: true },
    ],
    { title, placeHolder: 'Create a sandbox now, or choose how' },
  );
  if (!start) return undefined;
  if (!start.custom) return defaults;

  const defaultTemplate = defaults.template;
  const templates = await services.sandboxes.listTemplates();
  const template = templates.length > 0
    ? (await pickOne(
      [defaultTemplate, ...templates.filter((t) => t !== defaultTemplate)].map((t) => ({ label: t })),
      { title: `${title} (1/6): template`, placeHolder: 'Template to start from' },
    ))?.label
    : await askText({ title: `${title} (1/6): template`, value: defaultTemplate, prompt: 'Template name or ID' });
  if (!template) return undefined;
  const reference = await pickTag(services, template, title);
  if (!reference) return undefined;

  const minutes = await askMinutes(`${title} (2/6): timeout`, 'Minutes until the sandbox is killed (you can extend it later)',
    String(config.get<number>('create.defaultTimeoutMinutes', 15)));
  if (minutes === undefined) return undefined;

  const metadataText = await askText({
    title: `${title} (3/6): metadata`,
    prompt: 'Optional metadata as key=value pairs separated by commas (used to find and filter sandboxes; name=… labels it in the explorer)',
    placeHolder: 'name=demo, user=alice',
    validateInput: (v) => validate(() => parseKeyValueList(v, 'metadata')),
  });
  if (metadataText === undefined) return undefined;

  const envText = await askText({
    title: `${title} (4/6): environment variables`,
    prompt: 'Optional environment variables for every process in the sandbox: NAME=value, separated by commas',
    placeHolder: 'API_BASE=https://example.com, DEBUG=1',
    validateInput: (v) => validate(() => {
      const bad = invalidEnvVarNames(parseKeyValueList(v, 'environment variables'));
      if (bad.length) throw new Error(`Not a valid variable name: ${bad.join(', ')}`);
    }),
  });
  if (envText === undefined) return undefined;

  const onTimeout = await pickOne(
    [{ label: 'Kill', description: 'when the timeout passes (default)', pause: false }, { label: 'Pause', description: 'when the timeout passes, keeping files and memory', pause: true }],
    { title: `${title} (5/6): on timeout` },
  );
  if (!onTimeout) return undefined;

  const options: CreateSandboxOptions = {
    template: reference,
    timeoutMs: Math.round(minutes * 60_000),
    metadata: parseKeyValueList(metadataText, 'metadata'),
    envs: { ...defaultEnvVars(), ...parseKeyValueList(envText, 'environment variables') },
    autoPause: onTimeout.pause,
  };
  // Nothing is created before the user has seen everything together.
  const summary = describeNewSandbox(options);
  const confirm = await pickOne(
    [{ label: '$(check) Create sandbox', detail: summary, create: true }, { label: '$(close) Cancel', create: false }],
    { title: `${title} (6/6): summary`, placeHolder: summary },
  );
  return confirm?.create ? options : undefined;
}

/**
 * "name" or "name:tag": asked only when the template has several tags (its default tag first, as
 * the name alone means it). A template with one tag starts from that one; tags that cannot be
 * listed (a server without tags, a typed ID) leave the name as it is.
 */
async function pickTag(services: Services, template: string, title: string): Promise<string | undefined> {
  if (template.includes(':')) return template;
  const tags = await services.sandboxes.templateTags(template).catch(() => []);
  const choices = [...tags]
    .sort((a, b) => Number(b.tag === DEFAULT_TAG) - Number(a.tag === DEFAULT_TAG) || a.tag.localeCompare(b.tag))
    .map((t) => ({
      label: t.tag === DEFAULT_TAG ? template : `${template}:${t.tag}`,
      description: `${t.tag === DEFAULT_TAG ? 'default tag · ' : ''}build ${t.buildId.slice(0, 8)}, tagged ${t.createdAt.toLocaleDateString()}`,
    }));
  if (choices.length === 0) return template;
  if (choices.length === 1) return choices[0].label;
  return (await pickOne(choices, { title: `${title} (1/6): tag of ${template}`, placeHolder: 'Which build to start: the name alone is its default tag' }))?.label;
}

function validate(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
