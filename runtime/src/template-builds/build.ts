// Template builds: requested, then run in the background step by step, each file-system step as
// a cached layer. Build state and logs live in memory; the finished template is stored.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { isLocalImage, readImageInfo } from '../image/build';
import { ImagePuller, PullError, RegistryCredentials, RegistryUnreachableError } from '../image/registry/pull';
import { SandboxStart } from '../image/recipes';
import { invalidInput, notFound, unavailable } from '../errors';
import { TagNotFoundError, TemplateBuildRecord, templateNameOf, TemplateStore } from './store';
import { DEFAULT_TAG, parseTemplateRef, TemplateRef, validateTags } from './reference';
import { failedStepMessage } from './step-errors';
import { shellQuote } from '../shell-quote';
import { containerName } from '../container/names';
import { BuildHost, copyScript, inboxPath, layerIsEmpty, runStepInContainer, StepCommand } from './steps';

export type BuildStatus = 'waiting' | 'building' | 'ready' | 'error';
export interface BuildLogEntry {
  timestamp: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  step?: string;
}

export interface BuildStep {
  type: string;
  args?: string[];
  force?: boolean;
  filesHash?: string;
}
export interface BuildRequest {
  fromImage?: string;
  fromTemplate?: string;
  fromImageRegistry?: { type?: string; username?: string; password?: string };
  force?: boolean;
  startCmd?: string;
  readyCmd?: string;
  steps?: BuildStep[];
}

interface Build {
  templateID: string;
  buildID: string;
  /** The tags this build gets once it is ready. */
  tags: string[];
  status: BuildStatus;
  cpuCount: number;
  memoryMB: number;
  entries: BuildLogEntry[];
  reason?: { message: string; step?: string };
  createdAt: string;
}

/** The state a step runs in and that the template keeps at the end. */
interface BuildState {
  layers: string[];
  baseRootfs: string;
  /** Identifies the file system so far (base + layers); steps chain their cache keys from it. */
  key: string;
  envs: Record<string, string>;
  user: string;
  workdir?: string;
  start?: SandboxStart;
}

/** E2B's own base images are the runtime's local ones; any other image is pulled from its registry. */
const E2B_BASE_IMAGE = /^(docker\.io\/)?e2bdev\/(base|code-interpreter)(:[^/@]*)?$/;
const MAX_LOWERDIR_CHARS = 3500;

export class TemplateBuilds {
  private readonly builds = new Map<string, Build>();
  /** Build containers running now, and the builds in progress (for shutdown). */
  private readonly activeContainers = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private closing = false;

  constructor(
    readonly store: TemplateStore,
    private readonly host: BuildHost,
    private readonly log: (line: string) => void,
    /** `offlineFallback`: build on the local base when an image's registry cannot be reached (the user's choice). */
    private readonly options: { offlineFallback?: boolean } = {},
    private readonly puller = new ImagePuller(join(host.paths.dataDir, 'registry')),
  ) {}

  private imageExists(name: string): boolean {
    return isLocalImage(this.host.paths, name);
  }

  /** `POST /v3/templates`: registers a build of `name[:tag]` (plus `tags`), waiting for its steps. */
  request(body: Record<string, unknown>): Build {
    const raw = typeof body.name === 'string' ? body.name : typeof body.alias === 'string' ? body.alias : undefined;
    if (raw === undefined) throw invalidInput('Name is required');
    const { name, tags } = buildTarget(raw, body.tags);
    if (this.imageExists(name)) throw invalidInput(`'${name}' is a built-in image of this runtime: choose another template name`);
    const cpuCount = body.cpuCount === undefined ? 2 : Number(body.cpuCount);
    const memoryMB = body.memoryMB === undefined ? 1024 : Number(body.memoryMB);
    if (!Number.isInteger(cpuCount) || cpuCount < 1 || cpuCount > 64) throw invalidInput('cpuCount must be an integer from 1 to 64');
    if (!Number.isInteger(memoryMB) || memoryMB < 128 || memoryMB > 262144)
      throw invalidInput('memoryMB must be an integer from 128 to 262144');
    const build: Build = {
      templateID: name,
      buildID: randomUUID(),
      tags,
      status: 'waiting',
      cpuCount,
      memoryMB,
      entries: [],
      createdAt: new Date().toISOString(),
    };
    this.builds.set(build.buildID, build);
    return build;
  }

  get(templateID: string, buildID: string): Build {
    const build = this.builds.get(buildID);
    if (!build || build.templateID !== templateNameOf(templateID))
      throw notFound(`build '${buildID}' of template '${templateID}' not found`);
    return build;
  }

  /** `POST /v2/templates/{id}/builds/{buildID}`: starts the build in the background. */
  start(templateID: string, buildID: string, body: BuildRequest): void {
    const build = this.get(templateID, buildID);
    if (build.status !== 'waiting') throw invalidInput(`build '${buildID}' was already started`);
    if (body.steps !== undefined && !Array.isArray(body.steps)) throw invalidInput('steps must be an array');
    if (this.closing) throw unavailable('the runtime is shutting down');
    build.status = 'building';
    const running: Promise<void> = this.run(build, body)
      .catch((err) => {
        build.status = 'error';
        build.reason = build.reason ?? { message: (err as Error).message };
        this.append(build, 'error', `Build failed: ${build.reason.message}`, build.reason.step);
        this.log(`template ${build.templateID}: build ${build.buildID} failed: ${build.reason.message}`);
      })
      .finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /** Stops running builds (their containers are killed and removed) before the runtime exits. */
  async close(): Promise<void> {
    this.closing = true;
    this.puller.close();
    await Promise.all([...this.activeContainers].map((id) => this.host.crun.deleteForce(containerName(id)).catch(() => undefined)));
    await Promise.allSettled([...this.running]);
  }

  private append(build: Build, level: BuildLogEntry['level'], message: string, step?: string): void {
    build.entries.push({ timestamp: new Date().toISOString(), level, message, ...(step ? { step } : {}) });
  }

  private fail(build: Build, step: string, message: string): never {
    build.reason = { message, step };
    throw new Error(message);
  }

  private async baseState(build: Build, body: BuildRequest): Promise<BuildState> {
    if (body.fromTemplate) {
      // E2B resolves the parent reference when the build starts; a bad one fails the build at 'base'.
      let ref: TemplateRef;
      try {
        ref = parseTemplateRef(body.fromTemplate);
      } catch (err) {
        this.fail(build, 'base', `invalid template reference: ${(err as Error).message}`);
      }
      const parent = this.store.get(ref.name);
      if (parent) {
        const chosen = this.store.choose(parent, ref.tag);
        if (!chosen) this.fail(build, 'base', new TagNotFoundError(ref.name, ref.tag ?? DEFAULT_TAG).message);
        const b = chosen.build;
        return {
          layers: b.layers,
          baseRootfs: b.baseRootfs,
          key: hash(['template', b.baseRootfs, ...b.layers]),
          envs: { ...b.envs },
          user: b.user,
          workdir: b.workdir,
          start: b.start,
        };
      }
      if (ref.tag && this.imageExists(ref.name)) this.fail(build, 'base', new TagNotFoundError(ref.name, ref.tag).message);
      return this.imageState(build, ref.name, `template '${ref.name}' not found`);
    }
    const image = body.fromImage ?? 'e2bdev/base';
    if (!E2B_BASE_IMAGE.test(image)) return this.registryState(build, image, body.fromImageRegistry);
    const local = /code-interpreter/.test(image) && this.imageExists('code-interpreter-v1') ? 'code-interpreter-v1' : 'base';
    if (image !== 'e2bdev/base')
      this.append(build, 'info', `base image '${image}' is E2B's: the local image '${local}' stands for it`, 'base');
    return this.imageState(build, local, `base image '${image}' is not available`);
  }

  /** An image from a registry, pulled (or taken from the cache) with its progress in the build log. */
  private async registryState(build: Build, image: string, registry: BuildRequest['fromImageRegistry']): Promise<BuildState> {
    let credentials: RegistryCredentials | undefined;
    if (registry) {
      if (registry.type !== 'registry')
        this.fail(
          build,
          'base',
          `registry credentials of type '${registry.type}' (AWS, GCP) are not supported by the local runtime: use fromImage(image, { username, password })`,
        );
      if (!registry.username || !registry.password) this.fail(build, 'base', 'registry credentials need both a username and a password');
      credentials = { username: registry.username, password: registry.password };
    }
    try {
      const pulled = await this.puller.pull(image, credentials, (level, message) => this.append(build, level, message, 'base'));
      return { layers: [], baseRootfs: pulled.rootfs, key: hash(['registry', pulled.id]), envs: pulled.envs, user: 'user' };
    } catch (err) {
      if (this.closing) this.fail(build, 'base', 'the runtime is shutting down');
      if (err instanceof RegistryUnreachableError && this.options.offlineFallback) {
        this.append(
          build,
          'warn',
          `${err.message}: building on the local Debian image 'base' instead, as the runtime's --offline-fallback asks (this is not the image named)`,
          'base',
        );
        return this.imageState(build, 'base', `base image '${image}' is not available`);
      }
      if (err instanceof PullError) this.fail(build, 'base', `cannot pull the base image: ${err.message}`);
      throw err;
    }
  }

  private imageState(build: Build, name: string, missing: string): BuildState {
    const info = this.imageExists(name) ? readImageInfo(this.host.paths.imageDir(name)) : undefined;
    if (!info) this.fail(build, 'base', missing);
    return {
      layers: [],
      baseRootfs: this.host.paths.imageRootfs(name),
      key: hash(['image', name, info.fingerprint]),
      envs: {},
      user: 'user',
      start: info.start,
    };
  }

  private async run(build: Build, body: BuildRequest): Promise<void> {
    const started = Date.now();
    const steps = body.steps ?? [];
    this.append(
      build,
      'info',
      `[base] FROM ${body.fromTemplate ? `template ${body.fromTemplate}` : (body.fromImage ?? 'e2bdev/base')}`,
      'base',
    );
    const state = await this.baseState(build, body);
    // A forced build (skipCache) invalidates every layer; a forced step that one and all after it.
    let nonce = body.force ? randomUUID() : '';
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const stepName = String(i + 1);
      const args = (step.args ?? []).map(String);
      const label = `[${stepName}/${steps.length}] ${step.type} ${args.filter(Boolean).join(' ')}`.trim();
      if (step.force) nonce = nonce || randomUUID();
      if (this.closing) this.fail(build, stepName, 'the runtime is shutting down');
      switch (step.type) {
        case 'ENV': {
          for (let k = 0; k + 1 < args.length; k += 2) state.envs[args[k]] = args[k + 1];
          state.key = hash([state.key, 'ENV', ...args]);
          this.append(build, 'info', label, stepName);
          continue;
        }
        case 'RUN':
        case 'COPY':
        case 'WORKDIR':
        case 'USER':
          break;
        default:
          this.fail(build, stepName, `unsupported build step type '${step.type}'`);
      }
      const command = this.commandFor(build, state, step.type, args, step.filesHash, stepName);
      const key = hash([
        state.key,
        step.type,
        ...args,
        step.filesHash ?? '',
        JSON.stringify(state.envs),
        state.user,
        state.workdir ?? '',
        nonce,
      ]).slice(0, 24);
      const layerDir = this.store.layerDir(key);
      if (existsSync(layerDir) && !nonce) {
        this.append(build, 'info', `CACHED ${label}`, stepName);
      } else {
        this.append(build, 'info', label, stepName);
        const lowers = this.store.rootfsOf(state);
        if (lowers.length > MAX_LOWERDIR_CHARS)
          this.fail(build, stepName, 'too many layers: the overlay cannot stack this many steps, merge some RUN steps');
        mkdirSync(this.store.layersDir, { recursive: true });
        const tmpLayer = `${layerDir}.tmp-${randomUUID().slice(0, 8)}`;
        let outcome: { exitCode: number; status: string };
        try {
          outcome = await runStepInContainer(
            this.host,
            lowers,
            command.run,
            tmpLayer,
            (line) => this.append(build, 'info', line, stepName),
            command.inbox,
            this.activeContainers,
          );
        } catch (err) {
          rmSync(tmpLayer, { recursive: true, force: true });
          this.fail(build, stepName, failedStepMessage(step.type, args, { streamError: (err as Error).message }));
        }
        if (outcome.exitCode !== 0) {
          rmSync(tmpLayer, { recursive: true, force: true });
          this.fail(build, stepName, failedStepMessage(step.type, args, { status: outcome.status }));
        }
        // A concurrent build may have made the same layer meanwhile: keep that one (it may be mounted).
        if (existsSync(layerDir)) rmSync(tmpLayer, { recursive: true, force: true });
        else renameSync(tmpLayer, layerDir);
      }
      if (!layerIsEmpty(layerDir)) state.layers = [key, ...state.layers];
      state.key = hash([state.key, key]);
      if (step.type === 'USER') state.user = args[0];
      if (step.type === 'WORKDIR') state.workdir = resolveIn(state.workdir ?? homeOf(state.user), args[0]);
    }
    if (body.startCmd || body.readyCmd)
      state.start = { startCmd: body.startCmd || undefined, readyCmd: body.readyCmd || undefined, user: state.user };
    this.append(
      build,
      'info',
      `[finalize] ${state.start ? `start command: ${state.start.startCmd ?? '-'}, ready command: ${state.start.readyCmd ?? '-'}` : 'no start command'}`,
      'finalize',
    );
    const record: TemplateBuildRecord = {
      buildID: build.buildID,
      createdAt: new Date().toISOString(),
      cpuCount: build.cpuCount,
      memoryMB: build.memoryMB,
      layers: state.layers,
      baseRootfs: state.baseRootfs,
      envs: state.envs,
      user: state.user,
      workdir: state.workdir,
      start: state.start,
    };
    // Only a ready build takes its tags: a failed one leaves them on the build they had.
    this.store.addBuild(build.templateID, record, build.tags);
    this.append(
      build,
      'info',
      `Template ${build.templateID} built in ${((Date.now() - started) / 1000).toFixed(1)} s (${state.layers.length} layer(s)), tagged ${build.tags.join(', ')}`,
      'finalize',
    );
    build.status = 'ready';
    this.log(`template ${build.templateID}: build ${build.buildID} ready`);
  }

  private commandFor(
    build: Build,
    state: BuildState,
    type: string,
    args: string[],
    filesHash: string | undefined,
    stepName: string,
  ): { run: StepCommand; inbox: { name: string; source: string }[] } {
    const cwd = state.workdir ?? homeOf(state.user);
    switch (type) {
      case 'RUN':
        if (!args[0]) this.fail(build, stepName, 'RUN needs a command');
        return { run: { cmd: args[0], user: args[1] || state.user, cwd: state.workdir, envs: state.envs }, inbox: [] };
      case 'COPY': {
        const [src, dest, user, mode] = args;
        if (!src || !dest) this.fail(build, stepName, 'COPY needs a source and a destination');
        if (!filesHash || !/^[A-Za-z0-9_-]+$/.test(filesHash)) this.fail(build, stepName, 'COPY step without a valid filesHash');
        const archive = this.store.fileArchive(filesHash);
        if (!existsSync(archive)) this.fail(build, stepName, `the files of COPY ${src} were not uploaded (hash ${filesHash})`);
        const target = resolveIn(cwd, dest) + (dest.endsWith('/') ? '/' : '');
        return {
          run: { cmd: copyScript(inboxPath('files.tar'), src, target, user || state.user, mode ?? ''), user: 'root', envs: {} },
          inbox: [{ name: 'files.tar', source: archive }],
        };
      }
      case 'WORKDIR': {
        if (!args[0]) this.fail(build, stepName, 'WORKDIR needs a directory');
        const dir = resolveIn(cwd, args[0]);
        return {
          run: {
            cmd: `[ -d ${shellQuote(dir)} ] || { mkdir -p ${shellQuote(dir)} && chown ${shellQuote(state.user)}: ${shellQuote(dir)}; }`,
            user: 'root',
            envs: {},
          },
          inbox: [],
        };
      }
      case 'USER': {
        if (!args[0] || !/^[a-z_][a-z0-9_-]*$/.test(args[0]))
          this.fail(build, stepName, `USER needs a valid user name (got '${args[0] ?? ''}')`);
        const user = shellQuote(args[0]);
        return {
          run: { cmd: `id -u ${user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${user}`, user: 'root', envs: {} },
          inbox: [],
        };
      }
      default:
        this.fail(build, stepName, `unsupported build step type '${type}'`);
    }
  }

  /** `GET .../status?logsOffset=N`: at most 100 entries from the offset. */
  status(templateID: string, buildID: string, logsOffset: number): object {
    const build = this.get(templateID, buildID);
    const entries = build.entries.slice(Math.max(0, logsOffset), Math.max(0, logsOffset) + 100);
    return {
      templateID: build.templateID,
      buildID: build.buildID,
      status: build.status,
      logs: entries.map((e) => `${e.timestamp} ${e.message}`),
      logEntries: entries,
      ...(build.reason
        ? {
            reason: {
              message: build.reason.message,
              step: build.reason.step,
              logEntries: build.entries.filter((e) => e.level === 'error').slice(-20),
            },
          }
        : {}),
    };
  }

  /** A built-in image seen as a template build (its one tag is `default`); undefined when no such image. */
  imageBuild(name: string): { buildID: string; createdAt: string } | undefined {
    const info = this.imageExists(name) ? readImageInfo(this.host.paths.imageDir(name)) : undefined;
    return info ? { buildID: info.fingerprint, createdAt: info.builtAt } : undefined;
  }

  /** Whether any build of this template is still running. */
  building(templateID: string): boolean {
    return [...this.builds.values()].some((b) => b.templateID === templateID && b.status === 'building');
  }
}

/** E2B's reading of a build's `name[:tag]` and `tags`: the template and the tags the build gets. */
function buildTarget(raw: string, extraTags: unknown): { name: string; tags: string[] } {
  let ref: TemplateRef;
  try {
    ref = parseTemplateRef(raw);
  } catch (err) {
    throw invalidInput(`Invalid name: ${(err as Error).message}`);
  }
  if (extraTags !== undefined && extraTags !== null && !Array.isArray(extraTags))
    throw invalidInput('Invalid request body: tags must be an array of strings');
  let tags: string[];
  try {
    tags = validateTags([...(ref.tag ? [ref.tag] : []), ...((extraTags as unknown[] | null | undefined) ?? [])]);
  } catch (err) {
    throw invalidInput(`Invalid tag: ${(err as Error).message}`);
  }
  // As E2B: a build without tags gets `default`; one with tags gets only those.
  return { name: ref.name, tags: tags.length > 0 ? tags : [DEFAULT_TAG] };
}

function hash(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex');
}

function homeOf(user: string): string {
  return user === 'root' ? '/root' : `/home/${user}`;
}

function resolveIn(cwd: string, path: string): string {
  return posix.resolve(cwd, path);
}
