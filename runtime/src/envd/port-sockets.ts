// Sandbox ports that a service inside also serves on a unix socket in the agent's socket directory
// (/run/e2b, a host directory bind-mounted into the sandbox). The host's gateway connects to such a
// socket directly instead of through the agent's CONNECT tunnel: one process less on the path of
// every request (two wakeups, and a read and a write each way). The socket is only a shortcut:
// when it is missing or refuses, the gateway tunnels to the port as before. Whatever listens there
// is the sandbox's own: it is reached only for that sandbox's traffic to that port.

/** The agent's socket directory as the sandbox sees it. */
export const SOCKET_DIR_IN_SANDBOX = '/run/e2b';

/** The file name, in that directory, of the socket that serves `port`. */
export function portSocketName(port: number): string {
  return `port-${port}.sock`;
}
