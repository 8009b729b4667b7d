// A new sandbox's settings, already checked (the server parses the create request into them, a
// fork copies its source's), and the record and environment they make.
import { LOCAL_TEAM_ID } from './team';
import { ENVD_VERSION } from '../envd/version';
import { newAccessToken } from './ids';
import type { SandboxNetwork } from './network-config';
import type { SandboxRecord } from './record';
import type { ResolvedTemplate } from './template-source';
import type { SandboxVolumeMount } from '../volumes/mounts';

export interface SandboxSettings {
  /** Whole seconds, within the lifetime cap (lifetime.ts). */
  timeoutSeconds: number;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  /** An envd access token for the caller. */
  secure: boolean;
  /** A traffic access token (allowPublicTraffic: false). */
  trafficToken: boolean;
  autoPause: boolean;
  /** With autoPause: false makes the timeout's pause a filesystem-only one. */
  autoPauseMemory?: boolean;
  autoResume: boolean;
  allowInternetAccess: boolean;
  network?: SandboxNetwork;
  volumeMounts: SandboxVolumeMount[];
}

/** The settings of a blank sandbox (the warm pool's, before a caller gets it). */
export const BLANK_SETTINGS: SandboxSettings = {
  timeoutSeconds: 300,
  metadata: {},
  envVars: {},
  secure: true,
  trafficToken: false,
  autoPause: false,
  autoResume: false,
  allowInternetAccess: true,
  volumeMounts: [],
};

export function newRecord(id: string, template: ResolvedTemplate, settings: SandboxSettings): SandboxRecord {
  const now = new Date();
  const record: SandboxRecord = {
    sandboxID: id,
    templateID: template.templateID,
    alias: template.alias,
    envdVersion: ENVD_VERSION,
    envdAccessToken: settings.secure ? newAccessToken() : undefined,
    trafficAccessToken: settings.trafficToken ? newAccessToken() : undefined,
    startedAt: now.toISOString(),
    endAt: new Date(now.getTime() + settings.timeoutSeconds * 1000).toISOString(),
    cpuCount: template.limits.cpuCount,
    memoryMB: template.limits.memoryMB,
    diskSizeMB: template.diskSizeMB,
    metadata: settings.metadata,
    envVars: settings.envVars,
    state: 'creating',
    lifecycle: { onTimeout: settings.autoPause ? 'pause' : 'kill', autoResume: settings.autoResume },
    autoPauseMemory: settings.autoPauseMemory,
    allowInternetAccess: settings.allowInternetAccess,
    network: settings.network,
  };
  if (settings.volumeMounts.length) record.volumeMounts = settings.volumeMounts;
  return record;
}

/** Every process's environment: E2B's sandbox variables, the template's ENV, the caller's. */
export function sandboxEnv(id: string, template: ResolvedTemplate, callerEnv: Record<string, string>): Record<string, string> {
  return {
    E2B_SANDBOX: 'true',
    E2B_SANDBOX_ID: id,
    E2B_TEMPLATE_ID: template.templateID,
    E2B_TEAM_ID: LOCAL_TEAM_ID,
    ...template.envVars,
    ...callerEnv,
  };
}
