/**
 * How a commit's statements reach the server, as flights: a flight is a list of statements sent together and
 * answered together, one client round trip. Two ways:
 *
 *   - pipelined (a database opened from a URL, with a node-postgres that has pipeline mode, 8.23 and later): one
 *     dedicated connection of the store's own in pipeline mode; every statement is a named prepared statement with
 *     typed parameters (byte strings sent as such), all written before the first answer is read. The transaction's
 *     settings are the session's, set once per connection.
 *   - text (an older node-postgres, or the application's own pool): one text of several statements on a connection
 *     checked out of the pool (the simple query protocol: one round trip through any pooler), the parameters
 *     written into it as literals, and the settings set per transaction (`set_config(…, true)`).
 *
 * Both answer one result per statement, or fail with the first statement's error (under a transaction, the ones
 * after it fail as aborted, and a COMMIT after it rolls back).
 */
import { loadOptionalPeer } from '../../optional-peer.js'
import { type PgClient, type PgPool, type PgQuery, type PgResult } from './client.js'
import { literal, resultsOf, type TransactionSettings } from './sql.js'

export interface CommitChannel {
  /** Where a commit gets its connection. */
  readonly pool: PgPool
  /** Whether every transaction must set its own settings (a shared connection), rather than its session. */
  readonly settingsPerTransaction: boolean
  /** Sends the statements as one flight: one result per statement, or the first error. */
  send(client: PgClient, statements: readonly PgQuery[]): Promise<PgResult[]>
  /** Closes what the channel opened of its own. */
  close(): Promise<void>
}

/** A parameterized statement as text, its `$n` replaced by literals (our own statements: no `$n` inside quotes). */
export const inlined = (query: PgQuery): string =>
  query.values === undefined || query.values.length === 0
    ? query.text
    : query.text.replace(/\$(\d+)/g, (_, n: string) => literal(query.values![Number(n) - 1]))

/** Commits as one text per flight on connections of `pool`. */
export function textChannel(pool: PgPool): CommitChannel {
  return {
    pool,
    settingsPerTransaction: true,
    send: async (client, statements) => resultsOf(await client.query(statements.map(inlined).join(';\n'))),
    close: async () => {},
  }
}

/** A node-postgres `Client` as this module uses it. */
interface PipelinedClient extends PgClient {
  readonly pipeline?: boolean
  once(event: 'end', listener: () => void): unknown
  connect(): Promise<unknown>
  end(): Promise<void>
}

/**
 * Commits pipelined on one connection of their own to `url`; undefined when the installed node-postgres has no
 * pipeline mode (before 8.23), whose commits then go as text through the pool.
 */
export async function pipelinedChannel(url: string, settings: TransactionSettings): Promise<CommitChannel | undefined> {
  const pg = await loadOptionalPeer('pg', 'a PostgreSQL database', () => import('pg'))
  const Client = (pg.default ?? pg).Client as unknown as new (config: object) => PipelinedClient
  const config = { connectionString: url, pipeline: true, application_name: 'valkeyrie' }
  // Feature test: a node-postgres without pipeline mode ignores the option (and leaves `pipeline` unset).
  if (new Client(config).pipeline !== true) return undefined
  const connection = new DedicatedConnection(async () => {
    const client = new Client(config)
    client.on('error', ignore)
    await client.connect()
    await client.query(
      `SELECT set_config('lock_timeout', '${settings.lockTimeout}', false), ` +
        `set_config('idle_in_transaction_session_timeout', '${settings.idleTimeout}', false), ` +
        `set_config('synchronous_commit', '${settings.synchronousCommit}', false)`,
    )
    return client
  })
  return {
    pool: connection,
    settingsPerTransaction: false,
    async send(client, statements) {
      const settled = await Promise.allSettled(statements.map((s) => client.query(s)))
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
      if (failed) throw failed.reason
      return settled.map((s) => (s as PromiseFulfilledResult<PgResult>).value)
    },
    close: () => connection.end(),
  }
}

const ignore = (): void => {}

/**
 * One connection lent to one transaction at a time, as a pool of one: a transaction waits for the one before it.
 * Released with an error, or lost while idle (a server restart), the connection is dropped, and the next checkout
 * opens a new one.
 */
class DedicatedConnection implements PgPool {
  readonly #open: () => Promise<PipelinedClient>
  #client: Promise<PipelinedClient> | undefined
  /** The end of the last transaction lent the connection. */
  #turn: Promise<void> = Promise.resolve()
  #ended = false

  constructor(open: () => Promise<PipelinedClient>) {
    this.#open = open
  }

  async connect(): Promise<PgClient> {
    let done!: () => void
    const previous = this.#turn
    this.#turn = new Promise((resolve) => (done = resolve))
    await previous
    if (this.#ended) {
      done()
      throw new Error('the database is closed')
    }
    let client: PipelinedClient
    try {
      this.#client ??= this.#opened()
      client = await this.#client
    } catch (error) {
      this.#client = undefined
      done()
      throw error
    }
    let released = false
    const lent: PgClient = {
      query: (query) => client.query(query),
      on: (event, listener) => client.on(event, listener),
      off: (event, listener) => client.off(event, listener),
      release: (error) => {
        if (released) return
        released = true
        if (error) {
          this.#client = undefined
          client.end().catch(ignore)
        }
        done()
      },
    }
    return lent
  }

  /** A new connection, forgotten as soon as it fails or ends. */
  #opened(): Promise<PipelinedClient> {
    const opened: Promise<PipelinedClient> = this.#open().then((client) => {
      const drop = (): void => {
        if (this.#client === opened) this.#client = undefined
      }
      client.on('error', drop)
      client.once('end', drop)
      return client
    })
    return opened
  }

  query(query: PgQuery): Promise<PgResult> {
    throw new Error(`a commit connection runs transactions only: ${query.text}`)
  }

  async end(): Promise<void> {
    this.#ended = true
    await this.#turn
    const client = this.#client
    this.#client = undefined
    if (client) await client.then((c) => c.end()).catch(ignore)
  }
}
