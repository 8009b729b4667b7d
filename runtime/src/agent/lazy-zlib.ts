// node:zlib, loaded on first use. Only gzip'd uploads, downloads and RPC messages need it, and
// loading it up front cost every cold sandbox's agent start-up ~9 ms of CPU (measured on the
// 2-core host: 76 → 85 ms to a listening HTTP server).
import type * as Zlib from 'node:zlib';

export function zlib(): typeof Zlib {
  // A static import would load it at start-up, which is what this module exists to avoid.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:zlib') as typeof Zlib;
}
