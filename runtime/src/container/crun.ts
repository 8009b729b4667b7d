// A thin, async wrapper around the crun CLI. Each runtime keeps crun's state in its own root so
// runtimes (and tests) never see each other's containers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostCommandError, runHostCommand, whyFailed } from '../host-command';

export interface ContainerState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'stopped' | 'paused' | string;
}

export class Crun {
  constructor(
    private readonly root: string,
    private readonly binary = 'crun',
  ) {}

  /**
   * Starts the container detached and resolves with its init's host pid (from crun's pid file,
   * which saves a `crun state` call). crun's own output goes to logFile; the container's init moves its
   * stdio off that host file at once (native/init.c), so a sandbox never writes there.
   */
  async run(id: string, bundle: string, logFile: string): Promise<number> {
    const pidFile = join(bundle, 'init.pid');
    try {
      await runHostCommand(this.binary, ['--root', this.root, 'run', '--detach', '--pid-file', pidFile, '--bundle', bundle, id], {
        outputFile: logFile,
      });
    } catch (err) {
      if (!(err instanceof HostCommandError)) throw err;
      throw new Error(`crun run exited with ${err.status} (see ${logFile})`, { cause: err });
    }
    return Number(readFileSync(pidFile, 'utf8'));
  }

  async state(id: string): Promise<ContainerState | undefined> {
    try {
      return JSON.parse(await this.exec(['state', id])) as ContainerState;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<ContainerState[]> {
    const out = await this.exec(['list', '--format', 'json']);
    return out.trim() ? (JSON.parse(out) as ContainerState[]) : [];
  }

  /** Kills every process and removes crun's state and the container's cgroup; missing is fine. */
  async deleteForce(id: string): Promise<void> {
    try {
      await this.exec(['delete', '--force', id]);
    } catch (err) {
      if (!/does not exist|No such file/i.test(String(err))) throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.exec(['pause', id]);
  }
  async resume(id: string): Promise<void> {
    await this.exec(['resume', id]);
  }

  private async exec(args: string[]): Promise<string> {
    try {
      return await runHostCommand(this.binary, ['--root', this.root, ...args]);
    } catch (err) {
      throw new Error(`crun ${args[0]}: ${whyFailed(err)}`, { cause: err });
    }
  }
}
