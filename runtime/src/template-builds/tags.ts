// A template's tags, read from its assignment history as E2B keeps it: a tag can be assigned
// many times; it points at the build of its latest assignment, and removing it removes all.

export interface TagAssignment {
  tag: string;
  buildID: string;
  createdAt: string;
}

export class TemplateTags {
  /** Latest assignment per tag. */
  private readonly latest = new Map<string, TagAssignment>();

  constructor(assignments: readonly TagAssignment[]) {
    for (const a of assignments) this.latest.set(a.tag, a);
  }

  buildOf(tag: string): string | undefined {
    return this.latest.get(tag)?.buildID;
  }

  /** `GET /templates/{id}/tags`: one entry per tag, by tag name. */
  list(): TagAssignment[] {
    return [...this.latest.values()].sort((a, b) => a.tag.localeCompare(b.tag));
  }

  /** The tags pointing at a build. */
  of(buildID: string): string[] {
    return this.list()
      .filter((a) => a.buildID === buildID)
      .map((a) => a.tag);
  }
}
