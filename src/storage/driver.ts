/**
 * The driver contract: custom storage for Valkeyrie. A driver keeps entries under encoded keys, in key-byte order,
 * and runs a callback as one transaction. It never sees a decoded key or value: the library encodes, validates,
 * filters expired entries, hands out versionstamps and serializes commits, whatever the driver.
 */
import type { MaybePromise } from './store.js'

/** One entry as a driver stores it. */
export interface DriverEntry {
  /** The encoded key: compare keys bytewise (`Buffer.compare`), never as strings. */
  key: Uint8Array
  /** Opaque bytes from the library (value and its encoding): store them and give them back unchanged. */
  value: Uint8Array
  /** 20 lowercase hex digits: store and give back unchanged. */
  versionstamp: string
  /** Epoch ms after which the entry is dead, or null for never. */
  expiresAt: number | null
}

/**
 * The library's own records, kept through `get` and `set` like entries: the commit counter (in the versionstamp
 * of the entry under `VERSION_KEY`) and the serializer's name (the UTF-8 value under `SERIALIZER_KEY`). Both keys
 * begin with FF, which no encoded key does, so no `list` range reaches them. A driver may store them as ordinary
 * entries, or map them onto metadata of its own: the built-in SQLite driver keeps them in `kv_meta`, so a file
 * has one counter and one serializer record whether it is opened by path or through a driver.
 */
export const VERSION_KEY = Buffer.from('\xffversion', 'latin1')
/** See `VERSION_KEY`. */
export const SERIALIZER_KEY = Buffer.from('\xffserializer', 'latin1')

/** A storage backend for Valkeyrie. Every method may return a value or a promise of it. */
export interface KvDriver {
  /** The entry stored under `key`, or null/undefined. May omit entries expired at `now` (the library filters too). */
  get(key: Uint8Array, now: number): MaybePromise<DriverEntry | null | undefined>
  /** Stores (inserts or replaces) the entry under `key`. */
  set(key: Uint8Array, value: Uint8Array, versionstamp: string, expiresAt: number | null): MaybePromise<void>
  /** Removes the entry under `key`, if any. */
  delete(key: Uint8Array): MaybePromise<void>
  /**
   * Up to `limit` entries with `start <= key < end` in ascending key order, or descending when `reverse`. Every key
   * in the range begins with `prefix`. May omit entries expired at `now`.
   */
  list(
    start: Uint8Array,
    end: Uint8Array,
    prefix: Uint8Array,
    now: number,
    limit: number,
    reverse: boolean,
  ): MaybePromise<readonly DriverEntry[]>
  /** Removes entries expired at `now` (`expiresAt <= now`). */
  cleanup(now: number): MaybePromise<void>
  /**
   * Runs `callback` (which calls `get`, `set` and `delete`) as one transaction when the store has them: all of its
   * writes or none, isolated from other processes. A store without transactions may just `return callback()`: the
   * library never runs two callbacks at once on one database, and undoes a callback's writes if one of them fails.
   */
  withTransaction<T>(callback: () => Promise<T>): Promise<T>
  /** Releases the store. Called once, by `db.close()`. */
  close(): MaybePromise<void>
}

/** Makes a driver for a path (the first argument of `Valkeyrie.open`, undefined when it was omitted). */
export type DriverFactory = (path: string | undefined) => MaybePromise<KvDriver>

/**
 * Declares a custom driver.
 *
 * @example
 * const memory = defineDriver(async () => new MyMapDriver())
 * const db = await Valkeyrie.open(undefined, memory)
 */
export function defineDriver(factory: DriverFactory): DriverFactory {
  if (typeof factory !== 'function') throw new TypeError('defineDriver takes a function (path) => driver')
  return factory
}

const METHODS = ['get', 'set', 'delete', 'list', 'cleanup', 'withTransaction', 'close'] as const

/** Throws `TypeError` naming the first missing method. */
export function assertDriver(driver: unknown): asserts driver is KvDriver {
  if (typeof driver !== 'object' || driver === null) {
    throw new TypeError(`a driver factory must return a driver object: received ${driver === null ? 'null' : typeof driver}`)
  }
  for (const method of METHODS) {
    if (typeof (driver as Record<string, unknown>)[method] !== 'function') {
      throw new TypeError(`a driver must have a ${method} method`)
    }
  }
}

/** @internal The bytes of a Uint8Array a driver handed over, as a Buffer over the same memory (no copy). */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
