// Chooses how a command starts: through the launcher when the agent has the e2b-ptyexec helper
// (no fork of the agent per command), else, or if the launcher cannot be started, with Node's
// spawn.
import { CommandIo } from './command-io';
import { LaunchPlan } from './launch';
import { CommandLauncher } from './launcher';
import { SpawnedCommand } from './spawned-command';

export class CommandStarter {
  private readonly launcher: CommandLauncher | undefined;

  constructor(helperPath: string | undefined) {
    this.launcher = helperPath ? new CommandLauncher(helperPath) : undefined;
  }

  /** Starts the launcher ahead of the first command. */
  warmUp(): void {
    this.launcher?.ensureRunning();
  }

  start(plan: LaunchPlan): Promise<CommandIo> {
    if (this.launcher?.ensureRunning()) return this.launcher.start(plan.command);
    return SpawnedCommand.start(plan);
  }
}
