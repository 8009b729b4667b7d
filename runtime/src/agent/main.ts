// The in-sandbox agent (envd's role): runs as root inside the container, serves the host on a unix
// socket and the sandbox's own programs on TCP 49983.
//
//   E2B_AGENT_SOCKET  unix socket for the host (the only listener that accepts /init and CONNECT)
//   E2B_AGENT_PORT    TCP port on 0.0.0.0 (default 49983; 0 disables it)
//   E2B_AGENT_SOCKET_FD, E2B_AGENT_PORT_FD
//                     the same listeners, opened by e2b-init and inherited (init holds them so the
//                     agent may exit when idle: see idle-exit.ts); given, the agent binds nothing
//   E2B_AGENT_LOG     where init sends the agent's output (served to the host as GET /logs)
//   E2B_AGENT_STATE   file that keeps /init's settings across a restart of the agent
//   E2B_PTYEXEC       path of the e2b-ptyexec helper (the command launcher, PTYs, real pipes,
//                     supplementary groups, and for the filesystem service: xattr metadata,
//                     inotify watches)
import { accessSync, chmodSync, constants, mkdirSync, unlinkSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { dirname } from 'node:path';
import { RpcRouter } from './connect/rpc';
import { filesRoutes } from './files/routes';
import { MetadataStore } from './filesystem/metadata';
import { coreRoutes, createRequestHandler, Listener, RequestHandlerOptions } from './http-handler';
import { log } from './log';
import { registerProcessService } from './process/service';
import { ProcessRegistry } from './process/registry';
import { rehearseStart } from './process/rehearsal';
import { CommandStarter } from './process/starter';
import { AgentSettings } from './settings';
import { IDLE_EXIT_STATUS, IdleExit } from './idle-exit';
import { handleTunnel } from './tunnel';
import { UserDatabase } from './users';

const DEFAULT_PORT = 49983;

interface AgentConfig {
  socketPath: string | undefined;
  port: number;
  helperPath: string | undefined;
  /** Listeners e2b-init opened: the socket's fd, and the port's (undefined: it has none). */
  inherited: { socketFd: number; portFd: number | undefined } | undefined;
}

function fdFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 3) throw new Error(`invalid ${name} "${raw}"`);
  return fd;
}

function readConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const rawPort = env.E2B_AGENT_PORT?.trim();
  const port = rawPort ? Number(rawPort) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid E2B_AGENT_PORT "${rawPort}"`);
  let helperPath = env.E2B_PTYEXEC?.trim() || undefined;
  if (helperPath) {
    try {
      accessSync(helperPath, constants.X_OK);
    } catch {
      log(`E2B_PTYEXEC=${helperPath} is not executable: PTYs are unavailable`);
      helperPath = undefined;
    }
  }
  const socketFd = fdFrom(env, 'E2B_AGENT_SOCKET_FD');
  const inherited = socketFd === undefined ? undefined : { socketFd, portFd: fdFrom(env, 'E2B_AGENT_PORT_FD') };
  return { socketPath: env.E2B_AGENT_SOCKET?.trim() || undefined, port, helperPath, inherited };
}

function makeServer(options: RequestHandlerOptions, listener: Listener): Server {
  // requestTimeout 0: uploads and client streams may legitimately take long.
  const server = createServer({ requestTimeout: 0, noDelay: true }, createRequestHandler(options, listener));
  if (listener.trusted) server.on('connect', handleTunnel);
  else {
    server.on('connect', (_req, socket) => {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });
  }
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function listenUnix(server: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  try {
    unlinkSync(path); // a stale socket from an earlier run would make listen() fail
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      chmodSync(path, 0o600);
      resolve();
    });
  });
}

function listenTcp(server: Server, port: number): Promise<void> {
  return listenOn(server, { port, host: '0.0.0.0' });
}

function listenOn(server: Server, options: { fd: number } | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The listeners e2b-init holds for the agent; it logged already when the port could not be bound. */
async function listenInherited(options: RequestHandlerOptions, inherited: NonNullable<AgentConfig['inherited']>): Promise<Server[]> {
  const socketServer = makeServer(options, { trusted: true });
  await listenOn(socketServer, { fd: inherited.socketFd });
  if (inherited.portFd === undefined) return [socketServer];
  const portServer = makeServer(options, { trusted: false });
  await listenOn(portServer, { fd: inherited.portFd });
  return [socketServer, portServer];
}

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const users = new UserDatabase();
  const stateFile = process.env.E2B_AGENT_STATE?.trim() || undefined;
  const settings = new AgentSettings(users, stateFile);
  const registry = new ProcessRegistry();
  // Recently exited processes, kept over a sleep (envd replays them to a late Connect).
  const exitedFile = config.inherited && stateFile ? `${stateFile}.exited` : undefined;
  if (exitedFile) registry.loadExited(exitedFile);
  const rpc = new RpcRouter();
  const starter = new CommandStarter(config.helperPath);
  registerProcessService(rpc, { settings, registry, helperPath: config.helperPath, starter });
  const metadata = new MetadataStore(config.helperPath);
  // Loaded on its first call, as the /files routes are: start-up and first commands need neither.
  let watchers: { readonly size: number } | undefined;
  rpc.registerLazy('filesystem.Filesystem', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a static import would load it at start-up
    const { registerFilesystemService } = require('./filesystem/service') as typeof import('./filesystem/service');
    watchers = registerFilesystemService(rpc, { settings, users, metadata, helperPath: config.helperPath });
  });
  // What the first command needs is made ready while the agent waits for it: once the host sent
  // /init (the create's answer and the SDK's call take a while then), not at listen time, where
  // it would hold up /health and /init. An agent that init started again gets no /init.
  let warmedUp = false;
  const warmUp = () => {
    if (warmedUp) return;
    warmedUp = true;
    setImmediate(() => {
      starter.warmUp();
      rehearseStart(settings, config.helperPath);
    });
  };
  const logFile = process.env.E2B_AGENT_LOG?.trim() || undefined;
  const routes = [...coreRoutes(settings, logFile, warmUp), ...filesRoutes({ settings, users, metadata })];
  const options: RequestHandlerOptions = { settings, rpc, routes };

  const servers: Server[] = config.inherited ? await listenInherited(options, config.inherited) : [];
  if (config.inherited) {
    // Only init can start a sleeping agent again, so only an agent with init's listeners sleeps.
    const idle = new IdleExit(
      servers,
      () => registry.list().length > 0 || (watchers?.size ?? 0) > 0,
      () => settings.idleExitMs,
      () => {
        if (exitedFile) registry.saveExited(exitedFile);
        process.exit(IDLE_EXIT_STATUS);
      },
    );
    settings.onChange(() => idle.update());
    idle.update();
  } else if (config.socketPath) {
    const server = makeServer(options, { trusted: true });
    await listenUnix(server, config.socketPath);
    servers.push(server);
  } else {
    log('E2B_AGENT_SOCKET is not set: /init and tunnels are unavailable');
  }
  if (!config.inherited && config.port !== 0) {
    const server = makeServer(options, { trusted: false });
    try {
      await listenTcp(server, config.port);
      servers.push(server);
    } catch (err) {
      // The host only needs the socket; in-sandbox callers of :49983 lose out, but say so.
      log(`cannot listen on 0.0.0.0:${config.port}: ${(err as Error).message}`);
    }
  }
  if (servers.length === 0) throw new Error('no listener could be opened');
  // A woken agent says nothing: its log (GET /logs) tells of starts and crashes, not of every sleep.
  if (!config.inherited || !settings.restored)
    log(`ready (socket ${config.socketPath ?? '-'}, port ${config.port || '-'}, pty helper ${config.helperPath ?? '-'})`);
  if (settings.restored) warmUp();

  const shutdown = () => {
    for (const server of servers) server.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

// The agent is every sandbox's lifeline: a bug in one request must not take it down.
process.on('uncaughtException', (err) => log(`uncaught exception: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));

main().catch((err: unknown) => {
  log(`failed to start: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
