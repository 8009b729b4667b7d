// Image references as Docker reads them: `python:3.11` is docker.io/library/python:3.11 (served
// by registry-1.docker.io), `user/app` is docker.io/user/app:latest, and a first component with a
// dot, a colon or `localhost` names a registry host (`127.0.0.1:5000/test/app:1`). A digest
// (`@sha256:…`) pins the manifest.
import { isIP } from 'node:net';

export interface ImageReference {
  /** The registry as named (docker.io for Docker Hub). */
  registry: string;
  /** The host the API is served on (registry-1.docker.io for Docker Hub). */
  apiHost: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** What the manifest is fetched by: the digest, else the tag (`latest` when none). */
  reference: string;
  /** Plain HTTP is allowed (only for registries on loopback, as Docker allows). */
  loopback: boolean;
  /** The reference written out in full, for messages. */
  display: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export class ImageReferenceError extends Error {}

export function parseImageReference(input: string): ImageReference {
  const raw = input.trim();
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageReferenceError(`invalid image reference '${raw}': the digest must be sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageReferenceError(`invalid image reference '${raw}': bad tag '${tag}'`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw new ImageReferenceError(
      `invalid image reference '${raw}': repository names are lowercase letters, digits and separators (. _ -)`,
    );
  }
  const repository = parts.join('/');
  if (!tag && !digest) tag = 'latest';
  const apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return {
    registry,
    apiHost,
    repository,
    tag,
    digest,
    reference: digest ?? tag!,
    loopback: isLoopbackHost(apiHost),
    display: `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`,
  };
}

/** `localhost`, 127.0.0.0/8 or ::1, with or without a port. */
export function isLoopbackHost(hostPort: string): boolean {
  let host = hostPort;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (bracketed) host = bracketed[1];
  else if (/^[^:]+:\d+$/.test(hostPort)) host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && host === '::1';
}
