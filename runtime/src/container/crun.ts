// A thin, async wrapper around the crun CLI. Each runtime keeps crun's state in its own root so
// runtimes (and tests) never see each other's containers.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
    const out = openSync(logFile, 'a');
    const pidFile = join(bundle, 'init.pid');
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(this.binary, ['--root', this.root, 'run', '--detach', '--pid-file', pidFile, '--bundle', bundle, id], {
          stdio: ['ignore', out, out],
        });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`crun run exited with ${code} (see ${logFile})`))));
      });
    } finally {
      closeSync(out);
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

  private exec(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['--root', this.root, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`crun ${args[0]}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      });
    });
  }
}
