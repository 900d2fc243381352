/**
 * The contenders, as data: who runs a workload, in which child process environment, and against which baseline
 * its ratio is taken. A contender runs one side of a workload (`side`: the workload's `raw` or `valkeyrie`
 * function, see workloads.ts); another backend or another build is one more entry here.
 */
import { join, resolve } from 'node:path'

/** Which function of a workload a contender runs, and so which database file layout it is given. */
export type Side = 'raw' | 'valkeyrie'

export interface Contender {
  /** Shown in the tables and the JSON, and passed to contender.ts. */
  name: string
  side: Side
  /** The contender its ratio is taken against (in the same run and durability); none for a baseline. */
  baseline?: string
  /** Extra environment of its child process. */
  env?: Record<string, string>
}

/** The raw better-sqlite3 baseline (raw.ts). */
export const RAW: Contender = { name: 'raw', side: 'raw' }
/** Valkeyrie as built from this checkout (`dist/`). */
export const VALKEYRIE: Contender = { name: 'valkeyrie', side: 'valkeyrie', baseline: 'raw' }

/**
 * Valkeyrie built from another checkout (`--base <dir>`, whose `dist/` must be built), measured in the same run to
 * give before/after ratios. Its database files are prepared by this checkout's build, so both must share a schema.
 */
export function baseContender(checkout: string): Contender {
  return {
    name: 'valkeyrie@base',
    side: 'valkeyrie',
    baseline: 'raw',
    env: { VALKEYRIE_BENCH_DIST: join(resolve(checkout), 'dist') },
  }
}

export const DEFAULT_CONTENDERS: readonly Contender[] = [RAW, VALKEYRIE]
