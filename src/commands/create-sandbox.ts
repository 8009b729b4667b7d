// "Create Sandbox…": first "create with defaults" (one Enter), or a short wizard (template,
// timeout, metadata, env vars, auto-pause, network, volumes) ending in a summary to confirm; then a cancellable
// progress notification. Called with an options object it skips the wizard.
import * as vscode from 'vscode';
import { CreateSandboxOptions } from '../connection/sandbox-service';
import { describeNewSandbox } from '../views/sandbox-presentation';
import { invalidEnvVarNames, parseKeyValueList } from './input-parsers';
import { DEFAULT_TAG } from '../views/templates-tree';
import { askMinutes, askText, pickOne, problemOf } from './inputs';
import { askNetworkRules } from './network-input';
import type { NetworkRules } from '../views/network-rules';
import { Services } from './services';

export interface CreateSandboxArgs {
  template?: string;
  timeoutMinutes?: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  autoPause?: boolean;
  /** Volumes to mount: mount path → volume name. */
  volumeMounts?: Record<string, string>;
  /** Outbound network rules (default: internet on). */
  network?: NetworkRules;
  /** Make it the window's active sandbox (default true). */
  activate?: boolean;
}

/** The sandbox's id, or undefined when cancelled. */
export async function createSandbox(services: Services, args?: CreateSandboxArgs): Promise<string | undefined> {
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
}

function fromArgs(args: CreateSandboxArgs): CreateSandboxOptions {
  const config = vscode.workspace.getConfiguration('e2b');
  return {
    template: args.template ?? config.get<string>('create.defaultTemplate', 'base'),
    timeoutMs: (args.timeoutMinutes ?? config.get<number>('create.defaultTimeoutMinutes', 15)) * 60_000,
    metadata: args.metadata,
    envs: { ...defaultEnvVars(), ...args.envs },
    autoPause: args.autoPause,
    volumeMounts: args.volumeMounts,
    network: args.network,
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
      {
        label: '$(settings-gear) Choose template, timeout, metadata…',
        description: 'a few steps, then a summary to confirm',
        custom: true,
      },
    ],
    { title, placeHolder: 'Create a sandbox now, or choose how' },
  );
  if (!start) return undefined;
  if (!start.custom) return defaults;

  const defaultTemplate = defaults.template;
  const [templates, volumes] = await Promise.all([services.sandboxes.listTemplates(), listVolumeNames(services)]);
  // The volumes step is there only when there are volumes to mount.
  const total = volumes.length ? 8 : 7;
  const template =
    templates.length > 0
      ? (
          await pickOne(
            [defaultTemplate, ...templates.filter((t) => t !== defaultTemplate)].map((t) => ({ label: t })),
            { title: `${title} (1/${total}): template`, placeHolder: 'Template to start from' },
          )
        )?.label
      : await askText({ title: `${title} (1/${total}): template`, value: defaultTemplate, prompt: 'Template name or ID' });
  if (!template) return undefined;
  const reference = await pickTag(services, template, `${title} (1/${total})`);
  if (!reference) return undefined;

  const minutes = await askMinutes(
    `${title} (2/${total}): timeout`,
    'Minutes until the sandbox is killed (you can extend it later)',
    String(config.get<number>('create.defaultTimeoutMinutes', 15)),
  );
  if (minutes === undefined) return undefined;

  const metadataText = await askText({
    title: `${title} (3/${total}): metadata`,
    prompt:
      'Optional metadata as key=value pairs separated by commas (used to find and filter sandboxes; name=… labels it in the explorer)',
    placeHolder: 'name=demo, user=alice',
    validateInput: (v) => problemOf(() => parseKeyValueList(v, 'metadata')),
  });
  if (metadataText === undefined) return undefined;

  const envText = await askText({
    title: `${title} (4/${total}): environment variables`,
    prompt: 'Optional environment variables for every process in the sandbox: NAME=value, separated by commas',
    placeHolder: 'API_BASE=https://example.com, DEBUG=1',
    validateInput: (v) =>
      problemOf(() => {
        const bad = invalidEnvVarNames(parseKeyValueList(v, 'environment variables'));
        if (bad.length) throw new Error(`Not a valid variable name: ${bad.join(', ')}`);
      }),
  });
  if (envText === undefined) return undefined;

  const onTimeout = await pickOne(
    [
      { label: 'Kill', description: 'when the timeout passes (default)', pause: false },
      { label: 'Pause', description: 'when the timeout passes, keeping files and memory', pause: true },
    ],
    { title: `${title} (5/${total}): on timeout` },
  );
  if (!onTimeout) return undefined;

  const network = await askNetworkRules(`${title} (6/${total})`);
  if (!network) return undefined;

  const volumeMounts = volumes.length ? await askVolumeMounts(volumes, `${title} (7/${total})`) : {};
  if (!volumeMounts) return undefined;

  const options: CreateSandboxOptions = {
    template: reference,
    timeoutMs: Math.round(minutes * 60_000),
    metadata: parseKeyValueList(metadataText, 'metadata'),
    envs: { ...defaultEnvVars(), ...parseKeyValueList(envText, 'environment variables') },
    autoPause: onTimeout.pause,
    volumeMounts,
    // Internet on with no lists is E2B's default: nothing to send.
    network: network.allowInternetAccess && !network.allowOut && !network.denyOut ? undefined : network,
  };
  // Nothing is created before the user has seen everything together.
  const summary = describeNewSandbox(options);
  const confirm = await pickOne(
    [
      { label: '$(check) Create sandbox', detail: summary, create: true },
      { label: '$(close) Cancel', create: false },
    ],
    { title: `${title} (${total}/${total}): summary`, placeHolder: summary },
  );
  return confirm?.create ? options : undefined;
}

/**
 * "name" or "name:tag": asked only when the template has several tags (its default tag first, as
 * the name alone means it). A template with one tag starts from that one; tags that cannot be
 * listed (a server without tags, a typed ID) leave the name as it is.
 */
async function pickTag(services: Services, template: string, step: string): Promise<string | undefined> {
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
  return (
    await pickOne(choices, { title: `${step}: tag of ${template}`, placeHolder: 'Which build to start: the name alone is its default tag' })
  )?.label;
}

async function listVolumeNames(services: Services): Promise<string[]> {
  try {
    return (await services.volumes.list()).map((v) => v.name);
  } catch {
    // Volumes are optional: a server without them just has no volumes step.
    return [];
  }
}

/** Volumes to mount, one pick at a time (each with its mount path), until "Done". */
async function askVolumeMounts(volumes: string[], step: string): Promise<Record<string, string> | undefined> {
  const mounts: Record<string, string> = {};
  for (;;) {
    const chosen = Object.entries(mounts).map(([path, name]) => `${name} at ${path}`);
    const pick = await pickOne(
      [
        { label: chosen.length ? '$(check) Done' : '$(circle-slash) No volumes', done: true },
        ...volumes
          .filter((v) => !Object.values(mounts).includes(v))
          .map((name) => ({ label: name, description: 'mount this volume', done: false })),
      ],
      {
        title: `${step}: volumes`,
        placeHolder: chosen.length
          ? `Mounted: ${chosen.join(', ')}. Another one?`
          : 'Mount a volume (persistent storage shared between sandboxes)?',
      },
    );
    if (!pick) return undefined;
    if (pick.done) return mounts;
    const path = await askText({
      title: `${step}: where to mount ${pick.label}`,
      prompt: `Absolute path inside the sandbox for volume "${pick.label}"`,
      value: `/mnt/${pick.label}`,
      validateInput: (v) =>
        !/^\/[^\0]*[^/]$/.test(v) || v.split('/').some((p) => p === '.' || p === '..')
          ? 'Enter an absolute path such as /mnt/data (no "." or "..")'
          : mounts[v]
            ? `${mounts[v]} is mounted there already`
            : undefined,
    });
    if (path === undefined) return undefined;
    mounts[path] = pick.label;
  }
}
