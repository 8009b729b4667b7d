// A dry run of a command's start, with nothing started: the user lookup (which reads and parses
// /etc/passwd and /etc/group), the launch plan, the launcher's request and the stream's messages.
// Run while the agent waits for its first command, so that command does not pay for reading the
// user database and for compiling this code on first use.
import { encodeEnvelope } from '../connect/envelope';
import { AgentSettings } from '../settings';
import { endEventFor } from './exit-status';
import { planLaunch } from './launch';
import { encodeRequest } from './launcher';
import { dataEvent, endEvent, parseStartRequest, startEvent } from './messages';

/** What the SDK's commands.run sends first. */
const TYPICAL_START = { process: { cmd: '/bin/bash', args: ['-l', '-c', 'true'], envs: {} }, stdin: false };

export function rehearseStart(settings: AgentSettings, helperPath: string | undefined): void {
  try {
    const request = parseStartRequest(TYPICAL_START);
    const plan = planLaunch(request, settings.resolveUser(undefined), settings.envVars, settings.defaultWorkdir, helperPath);
    encodeRequest(plan.command);
    for (const message of [startEvent(0), dataEvent('stdout', Buffer.alloc(1)), endEvent(endEventFor(0, null))]) {
      encodeEnvelope(0, Buffer.from(JSON.stringify(message)));
    }
  } catch {
    // An image without bash or without its default user: its first command says so itself.
  }
}
