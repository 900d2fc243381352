/**
 * `db.collection(prefix, schema)` (SPEC §9): a typed, validated view over the records under one prefix. A thin view:
 * the record of id `id` is the plain entry at `[...prefix, ...id]`, readable with `db.get` too. Indexes live beside
 * it (see `layout.ts` for every key it writes).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { AtomicOperation } from '../atomic.js'
import { describeValue, ValidationError, WriteConflictError } from '../errors.js'
import { expireInOf, expiresAtFor } from '../expiry.js'
import { DEFAULT_BATCH_SIZE, MAX_GET_MANY_KEYS } from '../limits.js'
import { LIST_OPTION_NAMES, type KvListIterator } from '../list.js'
import type {
  KvCommitError,
  KvCommitResult,
  KvEntryMaybe,
  KvKey,
  KvKeyPart,
  KvListOptions,
  KvListSelector,
  KvSetOptions,
} from '../types.js'
import type { Valkeyrie } from '../valkeyrie.js'
import type { ReadableStream } from 'node:stream/web'
import { mapStream } from '../watch/map-stream.js'
import type { WatchOptions } from '../watch/options.js'
import {
  storedIndexValue,
  toIndexes,
  type Index,
  type IndexDefinitions,
  type IndexValue,
  type NonUniqueIndexName,
  type UniqueIndexName,
} from './indexes.js'
import { assertKeyPart, KeyLayout, samePart, sameParts } from './layout.js'
import {
  CollectionListIterator,
  limitOption,
  type CollectionEntry,
  type CollectionEntryMaybe,
  type PositionedEntry,
} from './list.js'
import { assertSchema, parseValue, type SchemaInput, type SchemaOutput } from './schema.js'
import { CommitRun, planDelete, planSet, type WriteTarget } from './write-plan.js'

/** How many times a standalone `set` or `delete` of an indexed collection is tried when concurrent writes conflict. */
const MAX_WRITE_ATTEMPTS = 100
/** How many times `findBy` re-reads an index entry that moved while it was followed. */
const MAX_FIND_ATTEMPTS = 10
const OPTION_NAMES = new Set(['idParts', 'indexes', 'validateOnRead', 'indexPrefix'])
/** `listBy` takes `db.list`'s options; `list` also takes the id range. */
const COLLECTION_LIST_OPTION_NAMES = new Set([...LIST_OPTION_NAMES, 'prefix', 'start', 'end'])
const READ_VALIDATIONS = new Set<unknown>([false, 'error', 'skip'])
const SKIP = Symbol('skip')

/** An id: one key part, or an array of parts (with `idParts`). */
export type CollectionId = KvKeyPart | readonly KvKeyPart[]

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9'
/** 2 to 99 as text: counts small enough to spell an id as a tuple. */
type SmallCount = Exclude<Digit, '0' | '1'> | `${Exclude<Digit, '0'>}${Digit}`
type TupleOf<N extends number, T extends readonly KvKeyPart[] = readonly []> = T['length'] extends N
  ? T
  : TupleOf<N, readonly [...T, KvKeyPart]>

/**
 * The id type of a collection whose ids have `TIdParts` parts: one key part for 1, a readonly tuple of exactly that
 * many parts for a literal count (up to 99), an array of parts for a count known only at run time. A count the
 * collection refuses at run time (0, negative, fractional) gives `never`.
 */
export type IdFor<TIdParts extends number> = number extends TIdParts
  ? readonly KvKeyPart[]
  : TIdParts extends 1
    ? KvKeyPart
    : `${TIdParts}` extends SmallCount
      ? TupleOf<TIdParts>
      : `${TIdParts}` extends '0' | `-${string}`
        ? never
        : `${TIdParts}` extends `${bigint}`
          ? readonly KvKeyPart[]
          : never

/** Validation on read: `false` trusts stored values; `'error'` rejects an invalid one; `'skip'` passes over it. */
export type ReadValidation = false | 'error' | 'skip'

/** Options of `db.collection`. */
export interface CollectionOptions<
  TOutput = unknown,
  TIndexes extends IndexDefinitions<TOutput> = IndexDefinitions<TOutput>,
  TIdParts extends number = number,
> {
  /** Key parts in an id (default 1: an id is one key part; more: an array of exactly that many parts). */
  idParts?: TIdParts | undefined
  /** Secondary indexes by name, maintained in the same commit as each record. */
  indexes?: TIndexes | undefined
  /**
   * Validate stored values on read too (default `false`), for data written before the schema: `'error'` rejects
   * with `ValidationError`, `'skip'` treats the record as absent. Reads return the schema's output for the stored
   * value, so use it with schemas whose output is also a valid input (no one-way transforms).
   */
  validateOnRead?: ReadValidation | undefined
  /**
   * Where index entries live (default `['__index', prefixBytes]`: the prefix's encoded key as one part, apart from
   * every other collection's). A chosen one must not begin with `'__index'` nor overlap the collection's prefix;
   * keeping it apart from other collections' prefixes and index prefixes is the caller's part.
   */
  indexPrefix?: KvKey | undefined
}

/** Which records `list` returns, and how. */
export interface CollectionListOptions<TId = CollectionId> extends KvListOptions {
  /** The first parts of the ids to list (fewer than `idParts`). */
  prefix?: readonly KvKeyPart[] | undefined
  /** The first id to list. */
  start?: TId | undefined
  /** The id to stop before. */
  end?: TId | undefined
}

/** What a collection and its atomic views share. */
interface CollectionCore<TSchema extends StandardSchemaV1> extends WriteTarget {
  readonly schema: TSchema
}

/** `expireIn`, checked before any I/O. */
function expireInOption(options: KvSetOptions | undefined): number | undefined {
  const expireIn = expireInOf(options)
  expiresAtFor(expireIn, 0)
  return expireIn as number | undefined
}

/** `cursor`, `reverse` and `batchSize` for the underlying list (a small limit reads a small first batch). */
function listOptions(options: KvListOptions, limit: number): KvListOptions {
  const out: KvListOptions = {}
  if (options.cursor !== undefined) out.cursor = options.cursor
  if (options.reverse !== undefined) out.reverse = options.reverse
  const batchSize = options.batchSize ?? (limit < DEFAULT_BATCH_SIZE ? limit : undefined)
  if (batchSize !== undefined) out.batchSize = batchSize
  return out
}

function assertOptionsObject(options: unknown, what: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what} must be an object: received ${describeValue(options)}`)
  }
}

/** Throws `TypeError` naming the first option that is not one of `names`: a misspelt option must not pass unseen. */
function assertKnownOptions(options: object, names: ReadonlySet<string>, what: string): void {
  for (const name of Object.keys(options)) {
    if (!names.has(name)) throw new TypeError(`unknown ${what} option ${JSON.stringify(name)}`)
  }
}

function checkCollectionOptions(options: unknown): CollectionOptions {
  if (options === undefined) return {}
  assertOptionsObject(options, 'collection options')
  assertKnownOptions(options, OPTION_NAMES, 'collection')
  const o = options as CollectionOptions
  if (o.idParts !== undefined) {
    if (typeof o.idParts !== 'number' || !Number.isInteger(o.idParts)) {
      throw new TypeError(`idParts must be a positive integer: received ${describeValue(o.idParts)}`)
    }
    if (o.idParts < 1) throw new RangeError(`idParts must be at least 1: received ${o.idParts}`)
  }
  if (o.validateOnRead !== undefined && !READ_VALIDATIONS.has(o.validateOnRead)) {
    throw new TypeError(`validateOnRead must be false, 'error' or 'skip': received ${describeValue(o.validateOnRead)}`)
  }
  return o
}

/**
 * A typed view of the records under one prefix: values are checked by the schema before they are written, reads
 * are typed by its output, and indexes are kept in the same commit as the records.
 */
export class Collection<
  TSchema extends StandardSchemaV1,
  TIndexes extends IndexDefinitions<SchemaOutput<TSchema>> = {},
  TId extends CollectionId = KvKeyPart,
> {
  readonly #core: CollectionCore<TSchema>
  readonly #validateOnRead: ReadValidation

  /** @internal Use `db.collection()`. */
  constructor(db: Valkeyrie, prefix: KvKey, schema: TSchema, options?: CollectionOptions<SchemaOutput<TSchema>, TIndexes>) {
    assertSchema(schema)
    const o = checkCollectionOptions(options)
    this.#core = {
      db,
      schema,
      layout: new KeyLayout(prefix, o.indexPrefix, o.idParts ?? 1),
      indexes: toIndexes(o.indexes),
    }
    this.#validateOnRead = o.validateOnRead ?? false
  }

  /** The prefix of every record's key. */
  get prefix(): KvKey {
    return [...this.#core.layout.prefix]
  }

  /** The schema values are checked by. */
  get schema(): TSchema {
    return this.#core.schema
  }

  /** The full key of a record: `[...prefix, ...id]`. */
  key(id: TId): KvKey {
    const { layout } = this.#core
    return layout.recordKey(layout.idPartsOf(id))
  }

  /** Reads a record: its entry, or one with `value` and `versionstamp` null when it is absent. */
  async get(id: TId): Promise<CollectionEntryMaybe<SchemaOutput<TSchema>, TId>> {
    const { db, layout } = this.#core
    const parts = layout.idPartsOf(id)
    const key = layout.recordKey(parts)
    return this.#entryMaybe(parts, await db.get(key))
  }

  /** Reads up to 10 records in one snapshot, in the order asked. */
  async getMany(ids: readonly TId[]): Promise<CollectionEntryMaybe<SchemaOutput<TSchema>, TId>[]> {
    const { db, layout } = this.#core
    if (!Array.isArray(ids)) throw new TypeError(`getMany takes an array of ids: received ${describeValue(ids)}`)
    const parts = ids.map((id) => layout.idPartsOf(id))
    const entries = await db.getMany(parts.map((p) => layout.recordKey(p)))
    return Promise.all(entries.map((entry, i) => this.#entryMaybe(parts[i] as KvKeyPart[], entry)))
  }

  /**
   * Watches one record: a stream of its entry, first as it is, then each time it changes (see `db.watch`).
   *
   * @example
   * for await (const user of users.watch('ada')) console.log(user.value?.name)
   */
  watch(id: TId, options?: WatchOptions): ReadableStream<CollectionEntryMaybe<SchemaOutput<TSchema>, TId>> {
    const { db, layout } = this.#core
    const parts = layout.idPartsOf(id)
    const stream = db.watch([layout.recordKey(parts)], options)
    return mapStream(stream, ([entry]) => this.#entryMaybe(parts, entry as KvEntryMaybe))
  }

  /** Watches up to 10 records: a stream of their entries, in the order asked (see `db.watch`). */
  watchMany(ids: readonly TId[], options?: WatchOptions): ReadableStream<CollectionEntryMaybe<SchemaOutput<TSchema>, TId>[]> {
    const { db, layout } = this.#core
    if (!Array.isArray(ids)) throw new TypeError(`watchMany takes an array of ids: received ${describeValue(ids)}`)
    const parts = ids.map((id) => layout.idPartsOf(id))
    const stream = db.watch(parts.map((p) => layout.recordKey(p)), options)
    return mapStream(stream, (entries) => Promise.all(entries.map((entry, i) => this.#entryMaybe(parts[i] as KvKeyPart[], entry))))
  }

  /**
   * Checks `value` with the schema and stores its output, with the record's index entries, in one commit. Rejects
   * with `ValidationError` (invalid value) or `UniqueConstraintError` (a unique value taken), and then writes nothing.
   */
  async set(id: TId, value: SchemaInput<TSchema>, options?: KvSetOptions): Promise<KvCommitResult> {
    const core = this.#core
    const parts = core.layout.idPartsOf(id)
    const key = core.layout.recordKey(parts)
    const expireIn = expireInOption(options)
    const output = await parseValue(core.schema, key, value)
    return this.#write(key, (run) => planSet(run, core, parts, output, expireIn))
  }

  /** Deletes a record and its index entries (whether or not it exists). */
  async delete(id: TId): Promise<void> {
    const core = this.#core
    const parts = core.layout.idPartsOf(id)
    await this.#write(core.layout.recordKey(parts), (run) => planDelete(run, core, parts))
  }

  /** Commits one write, again while concurrent writes to the keys it read make it fail. */
  async #write(key: KvKey, plan: (run: CommitRun) => Promise<void>): Promise<KvCommitResult> {
    const { db } = this.#core
    for (let attempt = 1; ; attempt++) {
      const result = await db
        .atomic()
        .defer(async (token) => {
          const run = CommitRun.of(token, db)
          await plan(run)
          return run.take()
        })
        .commit()
      if (result.ok) return result
      if (attempt === MAX_WRITE_ATTEMPTS) throw new WriteConflictError(key, attempt)
      // A random pause, growing with the attempts, spreads out writers that keep meeting each other.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)))
    }
  }

  /**
   * Lists records in id order (or `reverse`), optionally only ids that begin with `prefix`, from `start`, before
   * `end`; with `limit`, `cursor` and `batchSize` as `db.list` has them.
   *
   * @example
   * for await (const { id, value } of users.list({ limit: 10 })) console.log(id, value.name)
   */
  list(options: CollectionListOptions<TId> = {}): CollectionListIterator<SchemaOutput<TSchema>, TId> {
    assertOptionsObject(options, 'list options')
    assertKnownOptions(options, COLLECTION_LIST_OPTION_NAMES, 'list')
    const { layout, db } = this.#core
    const limit = limitOption(options.limit)
    const idPrefix = options.prefix === undefined ? [] : this.#idPrefix(options.prefix)
    const prefix = [...layout.prefix, ...idPrefix]
    const bound = (id: TId | undefined, name: string): KvKey | undefined => {
      if (id === undefined) return undefined
      const parts = layout.idPartsOf(id)
      if (!sameParts(parts.slice(0, idPrefix.length), idPrefix)) {
        throw new TypeError(`list ${name} must begin with the list prefix`)
      }
      return layout.recordKey(parts)
    }
    const start = bound(options.start, 'start')
    const end = bound(options.end, 'end')
    // Bounds are full keys, which db.list reads as such (they are longer than the prefix and begin with it).
    const selector: KvListSelector =
      start && end ? { prefix, start, end } : start ? { prefix, start } : end ? { prefix, end } : { prefix }
    const records = db.list(selector, listOptions(options, limit))
    return new CollectionListIterator(this.#records(records, limit), options.cursor ?? '')
  }

  #idPrefix(prefix: unknown): KvKeyPart[] {
    const { idParts } = this.#core.layout
    if (!Array.isArray(prefix)) throw new TypeError(`list prefix must be an array of key parts: received ${describeValue(prefix)}`)
    if (prefix.length >= idParts) {
      throw new RangeError(`list prefix must have fewer parts than an id (${idParts}): received ${prefix.length}`)
    }
    prefix.forEach((part, i) => assertKeyPart(part, `list prefix part ${i}`))
    return prefix as KvKeyPart[]
  }

  async *#records(
    records: KvListIterator<unknown>,
    limit: number,
  ): AsyncGenerator<PositionedEntry<SchemaOutput<TSchema>, TId>, void, undefined> {
    const { layout } = this.#core
    let left = limit
    for await (const record of records) {
      const parts = layout.recordIdParts(record.key)
      if (!parts) continue
      const value = await this.#read(record.key, record.value)
      if (value === SKIP) continue
      const id = layout.toId(parts) as TId
      yield { entry: { id, key: record.key, value, versionstamp: record.versionstamp }, cursor: records.cursor }
      if (--left === 0) return
    }
  }

  /**
   * The record whose unique index `index` has `value`, or null.
   *
   * @example
   * const ada = await users.findBy('email', 'ada@example.com')
   */
  async findBy<K extends UniqueIndexName<TIndexes>>(
    index: K,
    value: IndexValue<TIndexes, K>,
  ): Promise<CollectionEntry<SchemaOutput<TSchema>, TId> | null> {
    const { db, layout } = this.#core
    const definition = this.#index(index, true)
    assertKeyPart(value, `findBy value`)
    const entryKey = layout.uniqueKey(definition.name, value)
    for (let attempt = 1; attempt <= MAX_FIND_ATTEMPTS; attempt++) {
      const pointer = await db.get(entryKey)
      const parts = pointer.versionstamp === null ? undefined : layout.storedIdParts(pointer.value)
      if (!parts) return null
      const record = await db.get(layout.recordKey(parts))
      if (record.versionstamp !== null && samePart(storedIndexValue(definition, record.value), value)) {
        const entry = await this.#entryMaybe(parts, record)
        return entry.versionstamp === null ? null : entry
      }
      // The record does not have the value: the entry is stale, unless it moved to another record meanwhile.
      const again = await db.get(entryKey)
      if (again.versionstamp === pointer.versionstamp) return null
    }
    return null
  }

  /**
   * The records whose index `index` has `value`, in id order (or `reverse`), with `limit`, `cursor` and
   * `batchSize` as `db.list` has them.
   *
   * @example
   * const adasPosts = await Array.fromAsync(posts.listBy('author', 'ada'))
   */
  listBy<K extends NonUniqueIndexName<TIndexes>>(
    index: K,
    value: IndexValue<TIndexes, K>,
    options: KvListOptions = {},
  ): CollectionListIterator<SchemaOutput<TSchema>, TId> {
    const { db, layout } = this.#core
    const definition = this.#index(index, false)
    assertKeyPart(value, `listBy value`)
    assertOptionsObject(options, 'listBy options')
    assertKnownOptions(options, LIST_OPTION_NAMES, 'listBy')
    const limit = limitOption(options.limit)
    const entries = db.list({ prefix: layout.entryPrefix(definition.name, value) }, listOptions(options, limit))
    return new CollectionListIterator(this.#indexed(entries, definition, value, limit), options.cursor ?? '')
  }

  async *#indexed(
    entries: KvListIterator<unknown>,
    index: Index,
    value: KvKeyPart,
    limit: number,
  ): AsyncGenerator<PositionedEntry<SchemaOutput<TSchema>, TId>, void, undefined> {
    const { layout } = this.#core
    let left = limit
    // Index entries are followed in groups of up to 10, one getMany each.
    let pending: { parts: KvKeyPart[]; cursor: string }[] = []
    const full = () => pending.length >= Math.min(MAX_GET_MANY_KEYS, left)
    try {
      for (;;) {
        const next = full() ? undefined : await entries.next()
        if (next && !next.done) {
          const parts = layout.entryIdParts(next.value.key)
          if (parts) pending.push({ parts, cursor: entries.cursor })
          continue
        }
        for (const found of await this.#resolve(pending, index, value)) {
          yield found
          if (--left === 0) return
        }
        if (next?.done) return
        pending = []
      }
    } finally {
      await entries.return()
    }
  }

  /** The records named by index entries that still have the index value (other entries are stale). */
  async #resolve(
    pending: readonly { parts: KvKeyPart[]; cursor: string }[],
    index: Index,
    value: KvKeyPart,
  ): Promise<PositionedEntry<SchemaOutput<TSchema>, TId>[]> {
    if (pending.length === 0) return []
    const { db, layout } = this.#core
    const records = await db.getMany(pending.map(({ parts }) => layout.recordKey(parts)))
    const found: PositionedEntry<SchemaOutput<TSchema>, TId>[] = []
    for (const [i, record] of records.entries()) {
      const { parts, cursor } = pending[i] as { parts: KvKeyPart[]; cursor: string }
      if (record.versionstamp === null || !samePart(storedIndexValue(index, record.value), value)) continue
      const entry = await this.#entryMaybe(parts, record)
      if (entry.versionstamp !== null) found.push({ entry, cursor })
    }
    return found
  }

  #index(name: unknown, unique: boolean): Index {
    const index = this.#core.indexes.find((candidate) => candidate.name === name)
    if (!index) throw new TypeError(`no index named ${describeValue(name)}`)
    if (index.unique !== unique) {
      throw new TypeError(
        unique ? `index ${index.name} is not unique: use listBy` : `index ${index.name} is unique: use findBy`,
      )
    }
    return index
  }

  /**
   * This collection's writes inside an atomic operation: they commit with everything else in it, all or nothing.
   * Values are checked and index entries read when `commit()` runs; `op` must come from the same database.
   *
   * @example
   * const op = db.atomic()
   * users.in(op).set('ada', { name: 'Ada', email: 'ada@example.com' })
   * posts.in(op).set(1, { author: 'ada', title: 'Notes' })
   * await op.commit()
   */
  in(op: AtomicOperation): AtomicCollection<TSchema, TId> {
    if (!(op instanceof AtomicOperation)) {
      throw new TypeError(`in() takes an atomic operation from db.atomic(): received ${describeValue(op)}`)
    }
    return new AtomicCollection(this.#core, op)
  }

  async #read(key: KvKey, stored: unknown): Promise<SchemaOutput<TSchema> | typeof SKIP> {
    if (this.#validateOnRead === false) return stored as SchemaOutput<TSchema>
    try {
      return await parseValue(this.#core.schema, key, stored)
    } catch (error) {
      if (this.#validateOnRead === 'skip' && error instanceof ValidationError) return SKIP
      throw error
    }
  }

  async #entryMaybe(
    parts: readonly KvKeyPart[],
    entry: KvEntryMaybe,
  ): Promise<CollectionEntryMaybe<SchemaOutput<TSchema>, TId>> {
    const id = this.#core.layout.toId(parts) as TId
    const key = entry.key
    if (entry.versionstamp !== null) {
      const value = await this.#read(key, entry.value)
      if (value !== SKIP) return { id, key, value, versionstamp: entry.versionstamp }
    }
    return { id, key, value: null, versionstamp: null }
  }
}

/**
 * A collection's writes and checks added to an atomic operation (`collection.in(op)`). Each method returns the
 * view, for chaining; `commit()` commits the whole operation.
 */
export class AtomicCollection<TSchema extends StandardSchemaV1, TId extends CollectionId = KvKeyPart> {
  readonly #core: CollectionCore<TSchema>
  /** The atomic operation this view adds to. */
  readonly operation: AtomicOperation

  /** @internal Use `collection.in(op)`. */
  constructor(core: CollectionCore<TSchema>, op: AtomicOperation) {
    this.#core = core
    this.operation = op
  }

  /** Requires the record's versionstamp to be `versionstamp` (`null`: the record must not exist). */
  check(id: TId, versionstamp: string | null): this {
    const { layout } = this.#core
    this.operation.check({ key: layout.recordKey(layout.idPartsOf(id)), versionstamp })
    return this
  }

  /**
   * Sets a record and its index entries. The value is checked now; an invalid value or a taken unique value makes
   * `commit()` reject (`ValidationError`, `UniqueConstraintError`), and then nothing of the operation is applied.
   */
  set(id: TId, value: SchemaInput<TSchema>, options?: KvSetOptions): this {
    const core = this.#core
    const parts = core.layout.idPartsOf(id)
    const expireIn = expireInOption(options)
    const output = parseValue(core.schema, core.layout.recordKey(parts), value)
    // Rejected by commit(); until then, not an unhandled rejection (the operation may never be committed).
    output.catch(() => {})
    this.operation.defer(async (token) => {
      const run = CommitRun.of(token, core.db)
      await planSet(run, core, parts, await output, expireIn)
      return run.take()
    })
    return this
  }

  /** Deletes a record and its index entries. */
  delete(id: TId): this {
    const core = this.#core
    const parts = core.layout.idPartsOf(id)
    this.operation.defer(async (token) => {
      const run = CommitRun.of(token, core.db)
      await planDelete(run, core, parts)
      return run.take()
    })
    return this
  }

  /** Commits the whole atomic operation (the same as `operation.commit()`). */
  commit(): Promise<KvCommitResult | KvCommitError> {
    return this.operation.commit()
  }
}
