// Sandbox metrics sampled every 5 s from the sandbox's cgroups (CPU, memory) and its writable
// layer (disk), kept for an hour, in the shape of E2B's SandboxMetric.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupLayout } from '../container/cgroups';
import { layerBytesUsed, SandboxLayer } from './disk-usage';

export interface SandboxMetric {
  timestamp: string;
  timestampUnix: number;
  cpuCount: number;
  cpuUsedPct: number;
  memUsed: number;
  memTotal: number;
  memCache: number;
  diskUsed: number;
  diskTotal: number;
}

export interface MeteredSandbox {
  id: string;
  cpuCount: number;
  memoryMB: number;
  diskSizeMB: number;
  layer: SandboxLayer;
  cgroupPath: string;
}

const SAMPLE_INTERVAL_MS = 5000;
const KEEP_SAMPLES = 720;
const DISK_EVERY_SAMPLES = 3;
/**
 * Sandboxes sampled before the event loop gets a turn: the cgroup files are read synchronously,
 * and 500 sandboxes read in one go held the loop ~90 ms, stalling API calls (a list) meanwhile.
 */
const SAMPLE_BATCH = 25;

interface Series {
  samples: SandboxMetric[];
  lastCpuNs?: number;
  lastAt?: number;
  diskUsed: number;
  tick: number;
}

export class MetricsSampler {
  private readonly series = new Map<string, Series>();
  private timer?: NodeJS.Timeout;
  /** Set while a tick's batches run: a tick still sampling (a loaded host) is not overtaken. */
  private sampling = false;

  constructor(private readonly sandboxes: () => MeteredSandbox[]) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  forget(id: string): void {
    this.series.delete(id);
  }

  /** Samples between start and end (unix seconds, inclusive), oldest first. */
  samples(id: string, start?: number, end?: number): SandboxMetric[] {
    return (this.series.get(id)?.samples ?? []).filter(
      (s) => (start === undefined || s.timestampUnix >= start) && (end === undefined || s.timestampUnix <= end),
    );
  }

  latest(id: string): SandboxMetric | undefined {
    const samples = this.series.get(id)?.samples;
    return samples?.[samples.length - 1];
  }

  private async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      await this.sampleAll();
    } finally {
      this.sampling = false;
    }
  }

  async sampleAll(): Promise<void> {
    const live = this.sandboxes();
    const liveIds = new Set(live.map((s) => s.id));
    for (const id of this.series.keys()) if (!liveIds.has(id)) this.series.delete(id);
    for (let from = 0; from < live.length; from += SAMPLE_BATCH) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(live.slice(from, from + SAMPLE_BATCH).map((s) => this.sample(s).catch(() => undefined)));
    }
  }

  private async sample(sandbox: MeteredSandbox): Promise<void> {
    let series = this.series.get(sandbox.id);
    if (!series) {
      series = { samples: [], diskUsed: 0, tick: 0 };
      this.series.set(sandbox.id, series);
    }
    const now = Date.now();
    const cpuNs = readCpuUsageNs(sandbox.cgroupPath);
    let cpuUsedPct = 0;
    if (series.lastCpuNs !== undefined && series.lastAt !== undefined && cpuNs !== undefined) {
      const wallNs = (now - series.lastAt) * 1e6;
      cpuUsedPct = Math.max(0, Math.min(100, ((cpuNs - series.lastCpuNs) / (wallNs * sandbox.cpuCount)) * 100));
    }
    series.lastCpuNs = cpuNs;
    series.lastAt = now;
    if (series.tick++ % DISK_EVERY_SAMPLES === 0) series.diskUsed = await layerBytesUsed(sandbox.layer);
    const memory = readMemory(sandbox.cgroupPath);
    series.samples.push({
      timestamp: new Date(now).toISOString(),
      timestampUnix: Math.floor(now / 1000),
      cpuCount: sandbox.cpuCount,
      cpuUsedPct: Number(cpuUsedPct.toFixed(2)),
      memUsed: memory.used,
      memTotal: sandbox.memoryMB * 1024 * 1024,
      memCache: memory.cache,
      diskUsed: series.diskUsed,
      diskTotal: sandbox.diskSizeMB * 1024 * 1024,
    });
    if (series.samples.length > KEEP_SAMPLES) series.samples.splice(0, series.samples.length - KEEP_SAMPLES);
  }
}

function cgroupFile(controller: string, cgroupPath: string, file: string): string {
  return cgroupLayout() === 'v2' ? join('/sys/fs/cgroup', cgroupPath, file) : join('/sys/fs/cgroup', controller, cgroupPath, file);
}

function readNumber(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function readStat(path: string): Record<string, number> {
  try {
    return Object.fromEntries(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const [k, v] = l.split(' ');
          return [k, Number(v)];
        }),
    );
  } catch {
    return {};
  }
}

function readCpuUsageNs(cgroupPath: string): number | undefined {
  if (cgroupLayout() === 'v2') {
    const usec = readStat(cgroupFile('', cgroupPath, 'cpu.stat')).usage_usec;
    return usec === undefined ? undefined : usec * 1000;
  }
  return readNumber(cgroupFile('cpuacct', cgroupPath, 'cpuacct.usage'));
}

function readMemory(cgroupPath: string): { used: number; cache: number } {
  if (cgroupLayout() === 'v2') {
    const stat = readStat(cgroupFile('', cgroupPath, 'memory.stat'));
    const current = readNumber(cgroupFile('', cgroupPath, 'memory.current')) ?? 0;
    return { used: Math.max(0, current - (stat.file ?? 0)), cache: stat.file ?? 0 };
  }
  const stat = readStat(cgroupFile('memory', cgroupPath, 'memory.stat'));
  const usage = readNumber(cgroupFile('memory', cgroupPath, 'memory.usage_in_bytes')) ?? 0;
  return { used: Math.max(0, usage - (stat.total_cache ?? stat.cache ?? 0)), cache: stat.total_cache ?? stat.cache ?? 0 };
}
