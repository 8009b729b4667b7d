// The JSON shapes of a sandbox in the API's answers (protocol §1.2).
import { SandboxRecord } from '../sandbox/record';
import { networkView } from '../sandbox/network-config';

// Upstream always answers this clientID, and Python's parser requires the field.
const CLIENT_ID = '6532622b';

/** `Sandbox`: the answer to create and connect. */
export function sandboxView(record: SandboxRecord, domain: string): object {
  return {
    templateID: record.templateID,
    sandboxID: record.sandboxID,
    alias: record.alias,
    clientID: CLIENT_ID,
    envdVersion: record.envdVersion,
    envdAccessToken: record.envdAccessToken,
    trafficAccessToken: record.trafficAccessToken ?? null,
    domain,
  };
}

/** `ListedSandbox`: one entry of the list endpoints. */
export function listedSandboxView(record: SandboxRecord): object {
  return {
    templateID: record.templateID,
    alias: record.alias,
    sandboxID: record.sandboxID,
    clientID: CLIENT_ID,
    startedAt: record.startedAt,
    endAt: record.endAt,
    cpuCount: record.cpuCount,
    memoryMB: record.memoryMB,
    diskSizeMB: record.diskSizeMB,
    metadata: record.metadata,
    state: record.state,
    envdVersion: record.envdVersion,
    volumeMounts: (record.volumeMounts ?? []).map(({ name, path }) => ({ name, path })),
  };
}

/** `SandboxDetail`: the answer to GET /sandboxes/{id}. */
export function sandboxDetailView(record: SandboxRecord, domain: string): object {
  return {
    ...listedSandboxView(record),
    envdAccessToken: record.envdAccessToken,
    allowInternetAccess: record.allowInternetAccess,
    domain,
    lifecycle: record.lifecycle,
    network: networkView(record.network),
  };
}
