/** The SQLite driver wrapped in a driver of its own, as a composing application would: the adapter cannot see SQLite. */
import { defineDriver, type KvDriver, sqliteDriver } from '../../src/index.js'

export const wrappedSqliteDriver = defineDriver(async (path) => {
  const inner = (await sqliteDriver(path)) as KvDriver
  return {
    get: (key, now) => inner.get(key, now),
    set: (key, value, versionstamp, expiresAt) => inner.set(key, value, versionstamp, expiresAt),
    delete: (key) => inner.delete(key),
    list: (start, end, prefix, now, limit, reverse) => inner.list(start, end, prefix, now, limit, reverse),
    cleanup: (now) => inner.cleanup(now),
    withTransaction: (callback) => inner.withTransaction(callback),
    close: () => inner.close(),
  }
})
