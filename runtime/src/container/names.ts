// What a sandbox's (or build step's) container is called on the host: its crun container id and
// its cgroup. One place, so that the sandboxes, template builds and metrics agree on them.

/** The crun container id of a sandbox or build container. */
export function containerName(sandboxId: string): string {
  return `e2b-${sandboxId}`;
}

/** The sandbox's cgroup, below each hierarchy's root (v1) or the unified root (v2). */
export function cgroupPathOf(sandboxId: string): string {
  return `/e2b/${sandboxId}`;
}
