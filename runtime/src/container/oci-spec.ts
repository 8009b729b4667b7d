// The OCI runtime config of a sandbox: user namespace (sandbox root = unprivileged host uid),
// pid/mount/ipc/uts/network/cgroup namespaces, cgroup limits, seccomp, a reduced capability set,
// masked /proc paths. The network namespace crun makes has only loopback; with an uplink,
// src/network/ adds a veth whose rules live on the host. The host reaches the sandbox through the
// agent's unix socket either way.
import { availableParallelism } from 'node:os';
import { HOST_ID_BASE, ID_RANGE } from './idmap';
import { sandboxSeccompProfile } from './seccomp';

export interface SandboxLimits {
  cpuCount: number;
  memoryMB: number;
  pids: number;
}

export interface SandboxSpecInput {
  sandboxId: string;
  limits: SandboxLimits;
  /** Host paths bind-mounted read-only into /opt/e2b. */
  nodeBinary: string;
  agentScript: string;
  /** The code interpreter (dist/interpreter.js), started by code-interpreter images. */
  interpreterScript: string;
  binDir: string;
  /** Host dir holding the agent's unix socket, mounted at /run/e2b. */
  socketDir: string;
  cgroupsPath: string;
  noNewPrivileges: boolean;
  /** More mounts after the runtime's own (the sandbox's volumes). */
  extraMounts?: object[];
}

export const AGENT_SOCKET_IN_SANDBOX = '/run/e2b/agent.sock';
export const ENVD_PORT = 49983;

// Docker's default set minus NET_RAW and MKNOD. SETUID/SETGID let the agent run commands as the
// requested user and let sudo work; KILL lets it signal them.
const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const CPU_PERIOD_US = 100000;

/**
 * The CPU time a sandbox may use per period: what it asks for, but never the whole host. A fork
 * bomb given every core holds the kernel's process-table locks so constantly that a neighbour's
 * spawn waited 1-3 s (measured on 2 cores); left half a core (a quarter on one core) it is
 * throttled each period, the runtime and other sandboxes get in, and spawns stay under ~0.2 s.
 */
export function cpuQuotaUs(cpuCount: number, hostCpus = availableParallelism()): number {
  const headroom = Math.min(0.5, hostCpus / 4);
  return Math.round(Math.min(cpuCount, hostCpus - headroom) * CPU_PERIOD_US);
}

export function sandboxOciSpec(input: SandboxSpecInput): object {
  const idMapping = [{ containerID: 0, hostID: HOST_ID_BASE, size: ID_RANGE }];
  const bindReadOnly = (source: string, destination: string) => ({
    destination,
    type: 'bind',
    source,
    options: ['rbind', 'ro', 'nosuid', 'nodev'],
  });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/opt/e2b/bin/e2b-init', '/opt/e2b/node', '/opt/e2b/agent.js'],
      env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `E2B_AGENT_SOCKET=${AGENT_SOCKET_IN_SANDBOX}`,
        `E2B_AGENT_PORT=${ENVD_PORT}`,
        'E2B_AGENT_STATE=/run/e2b-agent/settings.json',
        // init.c writes here (LOG_FILE), on the sandbox's own /run tmpfs.
        'E2B_AGENT_LOG=/run/e2b-agent/agent.log',
        'E2B_PTYEXEC=/opt/e2b/bin/e2b-ptyexec',
      ],
      cwd: '/',
      capabilities: {
        bounding: CAPABILITIES,
        effective: CAPABILITIES,
        permitted: CAPABILITIES,
        inheritable: [],
        ambient: [],
      },
      noNewPrivileges: input.noNewPrivileges,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'e2b.local',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=65536k'] },
      { destination: '/run/e2b', type: 'bind', source: input.socketDir, options: ['rbind', 'rw', 'nosuid', 'nodev', 'noexec'] },
      bindReadOnly(input.nodeBinary, '/opt/e2b/node'),
      bindReadOnly(input.agentScript, '/opt/e2b/agent.js'),
      bindReadOnly(input.interpreterScript, '/opt/e2b/interpreter.js'),
      bindReadOnly(input.binDir, '/opt/e2b/bin'),
      ...(input.extraMounts ?? []),
    ],
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'].map((type) => ({ type })),
      uidMappings: idMapping,
      gidMappings: idMapping,
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        memory: { limit: input.limits.memoryMB * 1024 * 1024 },
        cpu: { quota: cpuQuotaUs(input.limits.cpuCount), period: CPU_PERIOD_US },
        pids: { limit: input.limits.pids },
      },
      seccomp: sandboxSeccompProfile(),
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
