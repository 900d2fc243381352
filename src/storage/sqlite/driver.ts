/** The built-in SQLite storage as a driver factory, for use wherever a driver is expected. */
import { defineDriver } from '../driver.js'
import { DEFAULT_BUSY_TIMEOUT_MS } from '../../limits.js'
import { openSqliteFile } from './storage.js'

/**
 * The default storage (a SQLite file, or memory without a path; durability 'full', busy timeout 5 s) as a driver.
 * `Valkeyrie.open(path)` uses it already; pass it to run a driver contract suite or to compose drivers.
 */
export const sqliteDriver = defineDriver(
  (path) => openSqliteFile({ path: path ?? ':memory:', durability: 'full', busyTimeout: DEFAULT_BUSY_TIMEOUT_MS }),
)
