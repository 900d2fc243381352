/** The default store: SQLite through better-sqlite3, every query a prepared Drizzle statement. */
import type Database from 'better-sqlite3'
import type { KvRow, RangeQuery, Storage, WriteTransaction } from '../store.js'
import type { KvQueries } from './queries.js'

export class SqliteStorage implements Storage {
  readonly #client: Database.Database
  readonly #q: KvQueries
  readonly #readMany: (keys: readonly Buffer[]) => (KvRow | undefined)[]
  readonly #transact: <T>(fn: (tx: WriteTransaction) => T) => T

  constructor(client: Database.Database, queries: KvQueries) {
    this.#client = client
    this.#q = queries
    // A deferred transaction: all reads see one snapshot.
    this.#readMany = client.transaction((keys: readonly Buffer[]) => keys.map((key) => queries.readRow.get({ key })))
    const immediate = client.transaction(<T>(fn: (tx: WriteTransaction) => T): T => {
      let version: number | undefined
      const tx: WriteTransaction = {
        read: (key) => queries.readRow.get({ key }),
        write: (row) => void queries.writeRow.run(row),
        remove: (key) => void queries.removeRow.run({ key }),
        removeExpired: (key, now) => void queries.removeExpiredRow.run({ key, now }),
        nextVersion: () => {
          version = (version ?? queries.readVersion.get()?.version ?? 0) + 1
          return version
        },
      }
      const result = fn(tx)
      if (version !== undefined) queries.writeVersion.run({ version })
      return result
    }).immediate
    this.#transact = immediate as <T>(fn: (tx: WriteTransaction) => T) => T
  }

  read(key: Buffer): KvRow | undefined {
    return this.#q.readRow.get({ key })
  }

  readMany(keys: readonly Buffer[]): (KvRow | undefined)[] {
    return this.#readMany(keys)
  }

  readRange({ start, end, limit, reverse }: RangeQuery): KvRow[] {
    return (reverse ? this.#q.readRangeDesc : this.#q.readRangeAsc).all({ start, end, limit })
  }

  transact<T>(_keys: () => Iterable<Buffer>, fn: (tx: WriteTransaction) => T): T {
    return this.#transact(fn)
  }

  purgeExpired(now: number, limit: number): number {
    return this.#transact((tx) => {
      const keys = this.#q.expiredKeys.all({ now, limit })
      for (const { key } of keys) tx.removeExpired(key, now)
      return keys.length
    })
  }

  close(): void {
    if (this.#client.open) this.#client.close()
  }
}
