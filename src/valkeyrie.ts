/** Valkeyrie: the public database object. It validates, encodes and coordinates; it holds no SQL. */
import type { AtomicCheck, KvCommitError, KvCommitResult, KvDatabaseInfo, KvEntry, KvEntryMaybe, KvKey, KvListOptions, KvListSelector, KvMutation, KvSetOptions } from './types.js'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { AtomicOperation } from './atomic.js'
import { Collection, type CollectionOptions, type IdFor } from './collection/collection.js'
import type { IndexDefinitions } from './collection/indexes.js'
import type { SchemaOutput } from './collection/schema.js'
import { type CommitSource, type PreparedCommit, prepareCommit } from './commit.js'
import { CommitQueue } from './commit-queue.js'
import type { KvRow, MaybePromise, Storage } from './storage/store.js'
import { type BulkLoadOptions, CommitBatcher, type LoadEntry, type LoadOptions, type LoadResult, mapItems, numbered, planBulkLoad, sizeOf, splitBulkOptions } from './bulk-load.js'
import { DatabaseClosedError, describeValue, ReadOnlyError, StorageError, ValkeyrieError } from './errors.js'
import { ExpirySweeper, expireInOf, isLive } from './expiry.js'
import { encodeKey } from './key/codec.js'
import { assertKeySize } from './key/range.js'
import { MAX_GET_MANY_KEYS, MAX_MUTATIONS, MAX_TIMER_MS } from './limits.js'
import { KvListIterator } from './list.js'
import { serializerName, type Serializer } from './serializers/serializer.js'
import { v8Serializer } from './serializers/v8.js'
import { openStorage, validatePathWithOptions, validateStorageOptions, type StorageOptions } from './storage/open.js'
import type { DriverFactory } from './storage/driver.js'
import { toEntry } from './entry.js'
import { toVersionstamp } from './versionstamp.js'
import { checkEnqueue, type CheckedEnqueue, encodeMessage, type KvEnqueueOptions } from './queue/message.js'
import { type ListenQueueOptions, QueueListener } from './queue/listener.js'
import { deadLetterCommit } from './queue/dead-letter.js'
import { decodeValue } from './value.js'
import type { ReadableStream } from 'node:stream/web'
import { WatchHub } from './watch/hub.js'
import { watchKeys, type WatchOptions } from './watch/options.js'

/** Options of `Valkeyrie.open`. */
export interface ValkeyrieOptions extends StorageOptions {
  /** How values are stored (default: the V8 serializer). A database keeps the serializer it was created with. */
  serializer?: Serializer
  /** How often expired entries are swept in the background, in ms (default 60000; 0 turns the sweep off). */
  sweepInterval?: number
  /** The clock expiry is measured by, in epoch ms (default `Date.now`); for tests. */
  clock?: () => number
}

const OPTION_NAMES = new Set([
  'serializer',
  'durability',
  'busyTimeout',
  'readOnly',
  'sweepInterval',
  'clock',
  'driver',
  'database',
  'tables',
  'migrations',
  'schema',
  'poolSize',
])
const DEFAULT_SWEEP_INTERVAL_MS = 60_000
const CONSTRUCTING = Symbol('Valkeyrie.open')

function validateOptions(options: unknown): ValkeyrieOptions {
  if (options === undefined) return {}
  if (typeof options === 'function') return { driver: options as DriverFactory }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object or a driver factory: received ${describeValue(options)}`)
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new TypeError(`unknown option ${JSON.stringify(name)}`)
  }
  const o = options as ValkeyrieOptions
  const { serializer, sweepInterval, clock } = o
  if (serializer !== undefined && (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function')) {
    throw new TypeError(`serializer must have serialize and deserialize functions: received ${describeValue(serializer)}`)
  }
  if (sweepInterval !== undefined) {
    if (typeof sweepInterval !== 'number' || !Number.isInteger(sweepInterval)) {
      throw new TypeError(`sweepInterval must be a non-negative integer of milliseconds: received ${describeValue(sweepInterval)}`)
    }
    if (sweepInterval < 0 || sweepInterval > MAX_TIMER_MS) {
      throw new RangeError(`sweepInterval must be between 0 and ${MAX_TIMER_MS}: received ${sweepInterval}`)
    }
  }
  if (clock !== undefined && typeof clock !== 'function') {
    throw new TypeError(`clock must be a function returning epoch milliseconds: received ${describeValue(clock)}`)
  }
  validateStorageOptions(o)
  return o
}

/** Every key: encoded keys begin with 01 to 27, and the library's own records (driver.ts) with FF. */
const ALL_KEYS = { start: Buffer.of(0x00), end: Buffer.of(0xff) }

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value) as unknown
  return prototype === Object.prototype || prototype === null
}

function readKey(key: KvKey): Buffer {
  const bytes = encodeKey(key)
  assertKeySize(bytes, 'read')
  return bytes
}

/**
 * A key-value database with Deno KV's API, stored in SQLite or PostgreSQL.
 *
 * @example
 * const db = await Valkeyrie.open('./data.db')
 * await db.set(['users', 'ada'], { name: 'Ada' })
 * const entry = await db.get(['users', 'ada'])
 * await db.close()
 */
export class Valkeyrie {
  #storage: Storage | undefined
  readonly #serializer: Serializer
  readonly #clock: () => number
  readonly #queue: CommitQueue
  readonly #sweeper: ExpirySweeper
  readonly #watches: WatchHub
  /** Opened with `readOnly: true`: writes reject, and expired rows found by reads are left in place. */
  readonly #readOnly: boolean
  /** The close in progress or done, shared by every `close()` call. */
  #closing: Promise<void> | undefined
  /** The queue listener of `listenQueue`, while it runs. */
  #listener: QueueListener | undefined

  /** @internal Use `Valkeyrie.open()`. */
  constructor(
    token: symbol,
    storage: Storage,
    serializer: Serializer,
    clock: () => number,
    sweepInterval: number,
    readOnly = false,
  ) {
    if (token !== CONSTRUCTING) throw new TypeError('use Valkeyrie.open() to open a database')
    this.#storage = storage
    this.#serializer = serializer
    this.#clock = clock
    this.#readOnly = readOnly
    this.#queue = new CommitQueue(storage, clock)
    this.#sweeper = new ExpirySweeper(storage, clock, readOnly ? 0 : sweepInterval, () => this.#queue.forgetFound())
    this.#watches = new WatchHub({
      readMany: (keys) => this.#read((s) => s.readMany(keys)),
      clock,
      serializer,
      watchChanges: storage.watchChanges?.bind(storage),
      onActive: (active) => {
        this.#queue.onCommitted = active ? (keys) => this.#watches.committed(keys) : undefined
      },
    })
  }

  /**
   * Opens a database: in memory when `path` is omitted or `':memory:'`, the PostgreSQL database at `path` when it
   * is a `postgres://` (or `postgresql://`) URL, else the SQLite file at `path` (created when absent). The second argument is the options, or a driver factory from `defineDriver`; without
   * a path, the options may be the only argument (`Valkeyrie.open({ database })`).
   *
   * @example
   * const db = await Valkeyrie.open('./data.db', { serializer: jsonSerializer, durability: 'relaxed' })
   */
  static open(options?: ValkeyrieOptions): Promise<Valkeyrie>
  static open(path?: string, options?: ValkeyrieOptions | DriverFactory): Promise<Valkeyrie>
  static async open(
    pathOrOptions?: string | ValkeyrieOptions,
    options?: ValkeyrieOptions | DriverFactory,
  ): Promise<Valkeyrie> {
    // Without a path (say, with your own `database`), the options may come first: a plain object only, so that a
    // URL or any other object given for the path is refused rather than read as options (and opened in memory).
    const optionsFirst = isPlainObject(pathOrOptions)
    if (optionsFirst && options !== undefined) {
      throw new TypeError('pass the options either first (without a path) or second, not both')
    }
    const path = optionsFirst ? undefined : (pathOrOptions as string | undefined)
    if (path !== undefined && (typeof path !== 'string' || path === '')) {
      throw new TypeError(`path must be a non-empty string or an options object: received ${describeValue(path)}`)
    }
    const o = validateOptions(optionsFirst ? pathOrOptions : options)
    validatePathWithOptions(path, o)
    const serializer = o.serializer ?? v8Serializer
    const clock = o.clock ?? Date.now
    const storage = await openStorage(path, o, serializerName(serializer), clock)
    const sweepInterval = o.sweepInterval ?? DEFAULT_SWEEP_INTERVAL_MS
    return new Valkeyrie(CONSTRUCTING, storage, serializer, clock, sweepInterval, o.readOnly ?? false)
  }

  /**
   * Opens a database (at `options.path`, else in memory) and writes every item of `items` into it under
   * `[...prefix, keyPart]`, in commits sized to the limits by count and by bytes. On failure the database is
   * closed and the error rethrown; the commits already made stay.
   *
   * @example
   * const db = await Valkeyrie.from([{ id: 1, name: 'Ada' }, { id: 2, name: 'Alan' }], { prefix: ['users'], keyProperty: 'id' })
   */
  static async from<T>(items: Iterable<T>, options: BulkLoadOptions<T> & ValkeyrieOptions): Promise<Valkeyrie> {
    if (typeof (items as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`from takes an iterable: received ${describeValue(items)}`)
    }
    return Valkeyrie.#bulkLoad(items, options, sizeOf(items))
  }

  /** As `from`, for an async iterable (or a sync one): items are written as they arrive. */
  static async fromAsync<T>(items: AsyncIterable<T> | Iterable<T>, options: BulkLoadOptions<T> & ValkeyrieOptions): Promise<Valkeyrie> {
    const source = items as Partial<AsyncIterable<T> & Iterable<T>> | null
    if (typeof source?.[Symbol.asyncIterator] !== 'function' && typeof source?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`fromAsync takes an async iterable or an iterable: received ${describeValue(items)}`)
    }
    return Valkeyrie.#bulkLoad(items, options, sizeOf(items))
  }

  static async #bulkLoad<T>(
    items: AsyncIterable<T> | Iterable<T>,
    options: BulkLoadOptions<T> & ValkeyrieOptions,
    total: number | undefined,
  ): Promise<Valkeyrie> {
    const [bulk, openOptions] = splitBulkOptions(options)
    const toLoadEntry = planBulkLoad(bulk)
    const db = await Valkeyrie.open(bulk.path, openOptions)
    const onProgress = bulk.onProgress
    try {
      await db.load(mapItems(items, toLoadEntry), onProgress ? { onProgress: (loaded) => onProgress(loaded, total) } : {})
    } catch (error) {
      await db.close()
      throw error
    }
    return db
  }

  /**
   * @internal Writes entries in as few commits as the limits allow (each commit atomic, the whole load not),
   * encoding every entry exactly as `set` does; an entry whose `expiresAt` has passed is skipped. With
   * `validateOnly`, checks every entry and writes nothing. An entry that cannot be written rejects with its
   * `TypeError`/`RangeError`, its message led by `item <n>` (counted from 1).
   */
  async load(entries: AsyncIterable<LoadEntry> | Iterable<LoadEntry>, options: LoadOptions = {}): Promise<LoadResult> {
    this.#open()
    if (this.#readOnly && !options.validateOnly) throw new ReadOnlyError('load')
    const batcher = new CommitBatcher()
    let count = 0
    let loaded = 0
    let expired = 0
    const write = async (commit: PreparedCommit): Promise<void> => {
      this.#open()
      await this.#queue.submit(commit)
      loaded += commit.mutations.length
      options.onProgress?.(loaded)
    }
    for await (const entry of entries) {
      count++
      let prepared: PreparedCommit
      try {
        const { key, value, expiresAt } = entry
        const now = this.#clock()
        if (expiresAt !== undefined && expiresAt <= now) {
          expired++
          continue
        }
        const expireIn = expiresAt === undefined ? entry.expireIn : expiresAt - now
        const mutation: KvMutation = expireIn === undefined ? { type: 'set', key, value } : { type: 'set', key, value, expireIn }
        prepared = prepareCommit([], [mutation], this.#serializer, now, 'plain')
      } catch (error) {
        throw numbered(error, count)
      }
      if (options.validateOnly) {
        loaded++
        continue
      }
      const full = batcher.add(prepared.mutations[0] as PreparedCommit['mutations'][number])
      if (full) await write(full)
    }
    const last = batcher.take()
    if (last) await write(last)
    return { loaded, expired }
  }

  /**
   * @internal As `list`, with each entry's expiry (epoch ms, null for never), for export: the one read that
   * sees when an entry expires.
   */
  listWithExpiry<T = unknown>(selector: KvListSelector, options?: KvListOptions): KvListIterator<T, KvEntry<T> & { expiresAt: number | null }> {
    return new KvListIterator<T, KvEntry<T> & { expiresAt: number | null }>(
      {
        readRange: async (query) => this.#read((s) => s.readRange(query)),
        now: this.#clock,
        serializer: this.#serializer,
        foundExpired: (key) => this.#foundExpired(key),
        withExpiry: true,
      },
      selector,
      options,
    )
  }

  /**
   * Describes the database without writing anything: how many entries (live and expired), its size on disk, its
   * serializer, storage format and last versionstamp. Counting reads every entry's expiry: a full scan.
   */
  async info(): Promise<KvDatabaseInfo> {
    const storage = this.#open()
    if (typeof storage.describe !== 'function') {
      throw new ValkeyrieError('the storage behind this database cannot describe itself')
    }
    const now = this.#clock()
    const found = this.#read((s) => (s.describe as (now: number) => ReturnType<NonNullable<Storage['describe']>>)(now))
    const d = found instanceof Promise ? await found : found
    return {
      entries: d.rows,
      live: d.rows - d.expired,
      expired: d.expired,
      bytes: d.bytes,
      serializer: d.serializer,
      formatVersion: d.formatVersion,
      versionstamp: d.version > 0 ? toVersionstamp(d.version) : null,
    }
  }

  /**
   * Deletes every entry, in commits of up to 1000 keys (each with its own versionstamp): the whole clear is not
   * atomic, and entries written meanwhile may stay. Collections' records and indexes are entries too.
   */
  async clear(): Promise<void> {
    this.#open()
    if (this.#readOnly) throw new ReadOnlyError('clear')
    for (;;) {
      const found = this.#read((s) => s.readRange({ ...ALL_KEYS, limit: MAX_MUTATIONS, reverse: false }))
      const rows = found instanceof Promise ? await found : found
      if (rows.length === 0) return
      const batcher = new CommitBatcher()
      for (const row of rows) {
        const full = batcher.add({ type: 'delete', key: row.key })
        if (full) await this.#queue.submit(full)
      }
      const last = batcher.take()
      if (last) await this.#queue.submit(last)
    }
  }

  /**
   * Closes the database and deletes it: the file with its -wal and -shm files (an in-memory database is just
   * closed). Refused with a `TypeError` before closing when the storage does not own its data (your own
   * connection, a custom driver): drop or delete that yourself.
   */
  async destroy(): Promise<void> {
    const storage = this.#open()
    if (this.#readOnly) throw new ReadOnlyError('destroy')
    const destroy = storage.destroy
    if (typeof destroy !== 'function') {
      throw new TypeError('destroy deletes a database Valkeyrie opened itself: this one is on your own connection or a custom driver; clear() it, close() it and delete it yourself')
    }
    this.#closing ??= this.#close(async (s) => {
      try {
        await destroy.call(s)
      } catch (error) {
        throw new StorageError('destroy', { cause: error })
      }
    })
    return this.#closing
  }

  #open(): Storage {
    if (!this.#storage) throw new DatabaseClosedError()
    return this.#storage
  }

  /** Runs a read on the store; a failure becomes a StorageError. A synchronous store answers without a promise. */
  #read<T>(fn: (storage: Storage) => MaybePromise<T>): MaybePromise<T> {
    const storage = this.#open()
    let result: MaybePromise<T>
    try {
      result = fn(storage)
    } catch (error) {
      throw new StorageError('read', { cause: error })
    }
    if (!(result instanceof Promise)) return result
    return result.catch((error: unknown) => {
      throw new StorageError('read', { cause: error })
    })
  }

  #entry<T>(key: KvKey, bytes: Buffer, row: KvRow | undefined, now: number): KvEntryMaybe<T> {
    if (row && isLive(row, now)) return toEntry<T>([...key], row, this.#serializer)
    if (row) this.#foundExpired(bytes)
    return { key: [...key], value: null, versionstamp: null }
  }

  /** Queues the deletion of a row a read found expired (never in read-only mode: it stays, hidden). */
  #foundExpired(key: Buffer): void {
    if (!this.#readOnly) this.#queue.purgeFound(key)
  }

  /** Reads one key: its entry, or `{ key, value: null, versionstamp: null }` when absent or expired. */
  async get<T = unknown>(key: KvKey): Promise<KvEntryMaybe<T>> {
    this.#open()
    const bytes = readKey(key)
    const found = this.#read((s) => s.read(bytes))
    const row = found instanceof Promise ? await found : found
    return this.#entry<T>(key, bytes, row, this.#clock())
  }

  /** Reads up to 10 keys in one snapshot; entries come back in request order. */
  async getMany<T extends readonly unknown[] = unknown[]>(
    keys: readonly KvKey[],
  ): Promise<{ [K in keyof T]: KvEntryMaybe<T[K]> }> {
    this.#open()
    if (!Array.isArray(keys)) throw new TypeError(`getMany takes an array of keys: received ${describeValue(keys)}`)
    if (keys.length > MAX_GET_MANY_KEYS) {
      throw new RangeError(`Too many keys for getMany (max ${MAX_GET_MANY_KEYS}): received ${keys.length}`)
    }
    const encoded = keys.map(readKey)
    const found = this.#read((s) => s.readMany(encoded))
    const rows = found instanceof Promise ? await found : found
    const now = this.#clock()
    return keys.map((key, i) => this.#entry(key, encoded[i] as Buffer, rows[i], now)) as {
      [K in keyof T]: KvEntryMaybe<T[K]>
    }
  }

  /**
   * Watches up to 10 keys: a stream of their entries (one slot per key, in order), first as they are now, then
   * each time the versionstamp of one of them changes, whichever process or client committed it; an entry that
   * expires comes as null. A slow reader gets the latest state (states are coalesced). `{ raw: true }` may also
   * emit when nothing changed. Cancel the stream (or break out of `for await`) to stop; `close()` ends every stream.
   *
   * @example
   * for await (const [config, user] of db.watch<[Config, User]>([['config'], ['users', id]])) render(config.value, user.value)
   */
  watch<T extends readonly unknown[] = unknown[]>(
    keys: readonly KvKey[],
    options?: WatchOptions,
  ): ReadableStream<{ [K in keyof T]: KvEntryMaybe<T[K]> }> {
    this.#open()
    const { encoded, raw } = watchKeys(keys, options)
    return this.#watches.open([...keys], encoded, raw) as unknown as ReadableStream<{ [K in keyof T]: KvEntryMaybe<T[K]> }>
  }

  /** Stores a value; `expireIn` (ms) makes it expire. */
  async set(key: KvKey, value: unknown, options?: KvSetOptions): Promise<KvCommitResult> {
    const expireIn = expireInOf(options) as number | undefined
    const mutation: KvMutation = expireIn === undefined ? { type: 'set', key, value } : { type: 'set', key, value, expireIn }
    return (await this.#commit([], [mutation], 'plain', 'set')) as KvCommitResult
  }

  /** Deletes a key (whether or not it exists). */
  async delete(key: KvKey): Promise<void> {
    await this.#commit([], [{ type: 'delete', key }], 'plain', 'delete')
  }

  /**
   * Lists entries by prefix or range, streaming them in batches.
   *
   * @example
   * for await (const entry of db.list({ prefix: ['users'] }, { limit: 10 })) console.log(entry.key, entry.value)
   */
  list<T = unknown>(selector: KvListSelector, options?: KvListOptions): KvListIterator<T> {
    return new KvListIterator<T>(
      {
        readRange: async (query) => this.#read((s) => s.readRange(query)),
        now: this.#clock,
        serializer: this.#serializer,
        foundExpired: (key) => this.#foundExpired(key),
      },
      selector,
      options,
    )
  }

  /**
   * Starts an atomic operation.
   *
   * @example
   * await db.atomic().check({ key: ['a'], versionstamp: null }).set(['a'], 1).sum(['count'], 1n).commit()
   */
  atomic(): AtomicOperation {
    return new AtomicOperation((checks, mutations, source, enqueues) => this.#commit(checks, mutations, source, 'commit', enqueues))
  }

  /**
   * Adds a message to the database's queue, as Deno KV: it is handed to a `listenQueue` handler (of any process on
   * the database) once `delay` ms have passed, at least once; a failed delivery is retried after each step of
   * `backoffSchedule`, and after the last one the value is written to every key of `keysIfUndelivered`. Bad options
   * and values over 64 KiB are a `TypeError`/`RangeError`, before anything is written.
   *
   * @example
   * await db.enqueue({ email: 'ada@example.com' }, { delay: 60_000, keysIfUndelivered: [['failed', 'welcome', 'ada']] })
   */
  enqueue(value: unknown, options?: KvEnqueueOptions): Promise<KvCommitResult> {
    let checked: CheckedEnqueue
    try {
      checked = checkEnqueue(value, options)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#commit([], [], 'built', 'enqueue', [checked]) as Promise<KvCommitResult>
  }

  /**
   * Runs `handler` on each queue message, as Deno KV: one message at a time per message, up to 100 at once, each
   * leased to this listener while its handler runs (a process that dies gives its messages back after the 5 s
   * lease). A handler that throws or rejects fails that delivery (see `enqueue`); `options.onError` hears of it
   * (default: `console.error`). One listener per database object. The promise settles when the database closes;
   * `close()` waits (up to 5 s) for running handlers and returns the messages of those still running to the queue.
   *
   * @example
   * db.listenQueue(async (job) => { await sendEmail(job) })
   */
  listenQueue<T = unknown>(handler: (value: T) => unknown, options?: ListenQueueOptions): Promise<void> {
    try {
      const storage = this.#open()
      if (typeof handler !== 'function') throw new TypeError(`listenQueue takes a handler function: received ${describeValue(handler)}`)
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw new TypeError(`listenQueue options must be an object: received ${describeValue(options)}`)
      }
      if (options?.onError !== undefined && typeof options.onError !== 'function') {
        throw new TypeError(`onError must be a function: received ${describeValue(options.onError)}`)
      }
      if (this.#readOnly) throw new ReadOnlyError('listen to the queue')
      const queue = storage.queue
      if (!queue) throw new ValkeyrieError('the storage behind this database has no queue')
      if (this.#listener) throw new TypeError('this database already has a queue listener (one per database object, as Deno KV)')
      const serializer = this.#serializer
      const listener = new QueueListener(
        {
          queue,
          clock: this.#clock,
          decode: (message) => decodeValue(message.value, message.encoding, serializer),
          deadLetter: async (message) => {
            const commit = deadLetterCommit(message)
            if (commit) await this.#queue.submit(commit)
          },
          watchChanges: storage.watchChanges?.bind(storage),
        },
        handler as (value: unknown) => unknown,
        options,
      )
      this.#listener = listener
      return listener.ended
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * A typed view of the records under `prefix`: `schema` (any Standard Schema v1, such as zod) checks every value
   * written, reads are typed by its output, and `options.indexes` are kept in the same commit as each record.
   *
   * @example
   * const users = db.collection(['users'], z.object({ name: z.string(), email: z.email() }), {
   *   indexes: { email: { on: (user) => user.email, unique: true } },
   * })
   * await users.set('ada', { name: 'Ada', email: 'ada@example.com' })
   * const ada = await users.findBy('email', 'ada@example.com')
   */
  collection<
    TSchema extends StandardSchemaV1,
    const TIndexes extends IndexDefinitions<SchemaOutput<TSchema>> = {},
    TIdParts extends number = 1,
  >(
    prefix: KvKey,
    schema: TSchema,
    // The intersection gives the index functions their parameter type while TIndexes is inferred.
    options?: CollectionOptions<SchemaOutput<TSchema>, TIndexes & IndexDefinitions<SchemaOutput<TSchema>>, TIdParts>,
  ): Collection<TSchema, TIndexes, IdFor<TIdParts>> {
    this.#open()
    return new Collection(this, prefix, schema, options)
  }

  /** Commits checks and mutations exactly as `atomic().commit()` does. */
  async executeAtomicOperation(
    checks: AtomicCheck[],
    mutations: KvMutation[],
  ): Promise<KvCommitResult | KvCommitError> {
    if (!Array.isArray(checks)) throw new TypeError(`checks must be an array: received ${describeValue(checks)}`)
    if (!Array.isArray(mutations)) throw new TypeError(`mutations must be an array: received ${describeValue(mutations)}`)
    return this.#commit(checks, mutations, 'raw')
  }

  /** Validates a commit and queues it. Not `async`: returning the queue's promise as is saves two ticks per commit. */
  #commit(
    checks: readonly AtomicCheck[],
    mutations: readonly KvMutation[],
    source: CommitSource,
    operation = 'commit',
    enqueues?: readonly CheckedEnqueue[],
  ): Promise<KvCommitResult | KvCommitError> {
    try {
      const storage = this.#open()
      if (this.#readOnly) throw new ReadOnlyError(operation)
      const now = this.#clock()
      const prepared = prepareCommit(checks, mutations, this.#serializer, now, source)
      if (enqueues === undefined || enqueues.length === 0) return this.#queue.submit(prepared)
      if (!storage.queue) throw new ValkeyrieError('the storage behind this database has no queue')
      if (mutations.length + enqueues.length > MAX_MUTATIONS) {
        throw new RangeError(`Too many mutations and enqueues (max ${MAX_MUTATIONS}): received ${mutations.length + enqueues.length}`)
      }
      prepared.enqueues = enqueues.map((e) => encodeMessage(e, this.#serializer, now))
      for (const message of prepared.enqueues) prepared.bytes += message.value.length
      // This instance's listener hears of its own enqueues at once.
      return this.#queue.submit(prepared).then((result) => {
        if (result.ok) this.#listener?.wake()
        return result
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Deletes every expired entry now (a background sweep also does this). */
  async cleanup(): Promise<void> {
    this.#open()
    if (this.#readOnly) throw new ReadOnlyError('clean up')
    try {
      await this.#sweeper.sweep()
    } catch (error) {
      if (!this.#storage) throw new DatabaseClosedError()
      throw new StorageError('cleanup', { cause: error })
    }
  }

  /** Finishes queued writes and closes the database. Every call resolves once the close has finished. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** Stops the sweep, finishes queued writes, then closes the store (or `finish`es it another way). */
  async #close(finish: (storage: Storage) => MaybePromise<void> = (s) => s.close()): Promise<void> {
    const storage = this.#storage
    if (!storage) return
    this.#watches.endAll()
    // Before the store closes to calls: the queue handlers still running may write (and their messages are acked).
    await this.#listener?.stop()
    this.#storage = undefined
    await this.#sweeper.stop()
    await this.#queue.drain()
    await finish(storage)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

