/**
 * node-postgres (`pg`, an optional peer dependency) as Valkeyrie uses it: the members of a pool and of its
 * clients, described here rather than imported so that the published types stand without `@types/pg`, and the
 * pool of a database opened from a URL.
 */
import { loadOptionalPeer } from '../../optional-peer.js'

/** One statement's result. */
export interface PgResult {
  rows: Record<string, unknown>[]
  rowCount: number | null
}

/** A statement with parameters, prepared once per connection under `name`. */
export interface PgQuery {
  name?: string
  text: string
  values?: unknown[]
}

/** A connection checked out of a pool. A text of several statements answers with one result per statement. */
export interface PgClient {
  query(query: PgQuery | string): Promise<PgResult | PgResult[]>
  /** Returns the connection to the pool; with an error, the pool closes it instead. */
  release(error?: Error | boolean): void
}

/** A node-postgres `Pool` (or one with its API). */
export interface PgPool {
  connect(): Promise<PgClient>
  query(query: PgQuery): Promise<PgResult>
  end(): Promise<void>
}

/**
 * A node-postgres pool, as the `database` option takes it (alone, or as the `$client` of a Drizzle database): the
 * members Valkeyrie relies on, loosely typed so that `pg`'s own `Pool` (and pools with its API) fit as they are.
 */
export interface PostgresPool {
  connect(): Promise<unknown>
  query(...args: never[]): unknown
  end(): unknown
  readonly idleCount: number
  readonly totalCount: number
}

/** Whether `value` is a pool with node-postgres's API (a single `Client` is not: it cannot hold our transactions apart). */
export function isPostgresPool(value: unknown): value is PostgresPool {
  if (typeof value !== 'object' || value === null) return false
  const pool = value as Partial<PostgresPool>
  return typeof pool.connect === 'function' && typeof pool.query === 'function' && 'idleCount' in pool
}

/** Whether `value` looks like a single node-postgres `Client`. */
export function isPostgresClient(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const client = value as { connect?: unknown; query?: unknown; idleCount?: unknown }
  return typeof client.connect === 'function' && typeof client.query === 'function' && !('idleCount' in client)
}

/** How a database opened from a URL connects. */
export interface PoolOptions {
  url: string
  poolSize: number
}

/** A pool for a URL. Idle connections do not keep the process alive, and one the server dropped is replaced. */
export async function createPool({ url, poolSize }: PoolOptions): Promise<PgPool> {
  const pg = await loadOptionalPeer('pg', 'a PostgreSQL database', () => import('pg'))
  const Pool = (pg.default ?? pg).Pool
  const pool = new Pool({ connectionString: url, max: poolSize, allowExitOnIdle: true, application_name: 'valkeyrie' })
  // An idle connection that fails (the server restarted) leaves the pool; the next checkout opens a new one.
  pool.on('error', () => {})
  return pool as unknown as PgPool
}

/** The URL as shown in messages: its password, if any, hidden. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@')
  }
}

/** A statement's SQLSTATE, when the server answered with an error. */
export const sqlState = (error: unknown): string | undefined =>
  typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined
