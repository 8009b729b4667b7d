// The gateway's keep-alive pool toward one sandbox port. A free (pooled, unused) socket is closed
// after FREE_SOCKET_TIMEOUT_MS: it is a connection to the sandbox's agent (directly, or as the
// agent's tunnel to the port), and an open connection keeps an idle agent from exiting
// (agent/idle-exit.ts). The gateway closes it, not the agent, so a request never meets a socket
// the other side just closed.
import { Agent } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';

// Well below the agent's idle exit (30 s by default) and its own keep-alive close (5 s).
export const FREE_SOCKET_TIMEOUT_MS = 4000;

export class IdleSocketAgent extends Agent {
  constructor() {
    super({ keepAlive: true, maxFreeSockets: 16 });
  }

  // Called as a socket goes back to the pool; Node's Agent destroys a pooled socket on its timeout
  // (and only a pooled one), so capping the timeout here bounds how long a free socket lives.
  override keepSocketAlive(socket: Duplex): boolean {
    const keep = super.keepSocketAlive(socket) as unknown as boolean;
    const net = socket as Socket;
    if (!net.timeout || net.timeout > FREE_SOCKET_TIMEOUT_MS) net.setTimeout(FREE_SOCKET_TIMEOUT_MS);
    return keep;
  }
}
