// Which manifest an image reference leads to on this machine: an OCI index or Docker manifest
// list is narrowed to this platform's entry; OCI and Docker v2 schema 2 image manifests are read;
// every manifest fetched by digest is checked against it.
import { createHash } from 'node:crypto';
import { PullError, RegistryClient } from './client';
import { ImageReference } from './reference';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** This machine's platform in OCI terms. */
export function hostPlatform(): { os: string; architecture: string } {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    ia32: '386',
  };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/** The image manifest for this platform: through an index when the reference names one. */
export async function resolveManifest(
  client: RegistryClient,
  ref: ImageReference,
  platform: { os: string; architecture: string },
): Promise<{ config: Descriptor; layers: Descriptor[] }> {
  let fetched = await client.manifest(ref.reference);
  let parsed = parseManifest(fetched.body, ref.digest, ref);
  let mediaType = (parsed.mediaType as string | undefined) ?? fetched.mediaType;
  if (INDEX_TYPES.includes(mediaType) || (Array.isArray(parsed.manifests) && !parsed.layers)) {
    const candidates = (parsed.manifests as Descriptor[] | undefined) ?? [];
    const chosen = candidates.find(
      (m) =>
        m.platform?.os === platform.os &&
        m.platform?.architecture === platform.architecture &&
        (platform.architecture !== 'arm64' || !m.platform.variant || m.platform.variant === 'v8'),
    );
    if (!chosen || !DIGEST.test(chosen.digest)) {
      const offered = candidates
        .map((m) => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}${m.platform?.variant ? `/${m.platform.variant}` : ''}`)
        .filter((p) => p !== 'unknown/unknown');
      throw new PullError(
        `image '${ref.display}' has no ${platform.os}/${platform.architecture} variant (it has: ${offered.join(', ') || 'none'})`,
      );
    }
    fetched = await client.manifest(chosen.digest);
    parsed = parseManifest(fetched.body, chosen.digest, ref);
    mediaType = (parsed.mediaType as string | undefined) ?? fetched.mediaType;
  }
  if (parsed.schemaVersion === 1)
    throw new PullError(
      `image '${ref.display}' uses the old Docker manifest schema 1, which is not supported: push it again with a current Docker or skopeo`,
    );
  const config = parsed.config as Descriptor | undefined;
  const layers = parsed.layers as Descriptor[] | undefined;
  if (!config || !DIGEST.test(config.digest) || !Array.isArray(layers) || layers.some((l) => !DIGEST.test(l.digest))) {
    throw new PullError(`image '${ref.display}' has a manifest this runtime cannot read (media type '${mediaType || 'none'}')`);
  }
  for (const layer of layers) {
    if (layer.mediaType && !/tar/.test(layer.mediaType))
      throw new PullError(`image '${ref.display}' has a layer of type '${layer.mediaType}', which is not a file system layer`);
  }
  return { config, layers };
}

function parseManifest(body: Buffer, expectedDigest: string | undefined, ref: ImageReference): Record<string, unknown> {
  if (expectedDigest) {
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (digest !== expectedDigest)
      throw new PullError(`the manifest of '${ref.display}' does not match its digest ${expectedDigest} (got ${digest})`);
  }
  try {
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new PullError(`the registry ${ref.apiHost} sent a manifest for '${ref.display}' that is not JSON`);
  }
}
