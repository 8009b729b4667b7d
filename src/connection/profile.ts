// A connection profile: everything the SDK needs to reach one E2B (cloud, self-hosted, local).
export type ConnectionKind = 'local' | 'cloud' | 'selfHosted';

export interface ConnectionProfile {
  kind: ConnectionKind;
  /** Shown to the user: "local runtime", "E2B cloud", the self-hosted host. */
  label: string;
  apiKey: string;
  apiUrl?: string;
  sandboxUrl?: string;
  domain?: string;
  /** The volume content API (E2B_VOLUME_API_URL); unset: the SDK's `https://api.<domain>`. */
  volumeApiUrl?: string;
}

export const CLOUD_DOMAIN = 'e2b.app';

/** The options every SDK call gets. */
export function sdkOptions(profile: ConnectionProfile): { apiKey: string; apiUrl?: string; sandboxUrl?: string; domain?: string } {
  return { apiKey: profile.apiKey, apiUrl: profile.apiUrl, sandboxUrl: profile.sandboxUrl, domain: profile.domain };
}

/** Where the profile's REST API is: its own URL, else E2B's `api.<domain>`. */
export function apiBaseUrl(profile: ConnectionProfile): string {
  return profile.apiUrl ?? `https://api.${profile.domain || CLOUD_DOMAIN}`;
}

/**
 * The URL of a port inside a sandbox, as `sandbox.getHost(port)` would give it, with a scheme:
 * E2B serves https on <port>-<id>.<domain>; the local runtime serves plain http on its own port.
 */
export function sandboxPortUrl(profile: ConnectionProfile, sandboxId: string, port: number): string {
  if (profile.kind === 'local' && profile.apiUrl) {
    const api = new URL(profile.apiUrl);
    return `http://${port}-${sandboxId}.localhost:${api.port || 80}/`;
  }
  const domain = profile.domain || CLOUD_DOMAIN;
  return `https://${port}-${sandboxId}.${domain}/`;
}
