/** Errors for runtime failures. Caller mistakes are plain `TypeError` / `RangeError`. */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { KvKey, KvKeyPart } from './types.js'

/** Base class of every runtime failure the library reports; the lower-level error is `cause`. */
export class ValkeyrieError extends Error {
  override name = 'ValkeyrieError'
}

/** A method was called on a database that has been closed. */
export class DatabaseClosedError extends ValkeyrieError {
  override name = 'DatabaseClosedError'
  constructor() {
    super('database is closed')
  }
}

/** A write, commit or `cleanup()` on a database opened with `readOnly: true`; rejected before any I/O. */
export class ReadOnlyError extends ValkeyrieError {
  override name = 'ReadOnlyError'
  constructor(operation: string) {
    super(`cannot ${operation}: the database was opened with readOnly: true`)
  }
}

/** The database file could not be opened: missing folder, not a database, corrupt, or written by another serializer. */
export class OpenError extends ValkeyrieError {
  override name = 'OpenError'
  readonly path: string
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`cannot open ${path}: ${message}`, options)
    this.path = path
  }
}

/**
 * The database was written with another serializer than the one it was opened with. An `OpenError`, with both
 * names as data, so a tool can open it again with the serializer it records.
 */
export class SerializerMismatchError extends OpenError {
  override name = 'SerializerMismatchError'
  /** The serializer the database records. */
  readonly recorded: string
  /** The serializer it was opened with. */
  readonly requested: string
  constructor(path: string, recorded: string, requested: string) {
    super(path, `it was written with the ${recorded} serializer, but was opened with the ${requested} serializer`)
    this.recorded = recorded
    this.requested = requested
  }
}

/** The storage failed while reading or writing (I/O error, disk full, locked past the busy timeout). */
export class StorageError extends ValkeyrieError {
  override name = 'StorageError'
  constructor(operation: string, options: ErrorOptions) {
    super(`${operation} failed: ${describeCause(options.cause)}`, options)
  }
}

/**
 * A stored value could not be decoded (its bytes are corrupt, or were not written by this serializer). The row
 * stays as it is: `delete(key)` removes it, and a listing can resume past it (see docs/guide.md, "Listing").
 */
export class CorruptValueError extends StorageError {
  override name = 'CorruptValueError'
  /** The full key of the entry. */
  readonly key: KvKey
  constructor(key: KvKey, options: ErrorOptions) {
    super('read', options)
    this.message = `value at ${formatKey(key)} cannot be decoded: ${describeCause(options.cause)}`
    this.key = key
  }
}

/**
 * A commit failed while it was being made durable (its WAL frames were written, then a sync or write failed), and
 * what was written could not be discarded: it may or may not have been applied, now or when the file is next
 * opened. A `StorageError`, so `instanceof StorageError` still holds; read back before retrying.
 */
export class CommitUnknownResultError extends StorageError {
  override name = 'CommitUnknownResultError'
  constructor(options: ErrorOptions) {
    super('commit', options)
    this.message = `commit may or may not have been applied: ${describeCause(options.cause)}`
  }
}

/** A value does not match its collection's schema (when written, or when read with `validateOnRead`). */
export class ValidationError extends ValkeyrieError {
  override name = 'ValidationError'
  /** The full key of the record. */
  readonly key: KvKey
  /** What the schema reported, as Standard Schema issues. */
  readonly issues: readonly StandardSchemaV1.Issue[]
  constructor(key: KvKey, issues: readonly StandardSchemaV1.Issue[], options?: ErrorOptions) {
    super(`value at ${formatKey(key)} does not match its schema: ${describeIssues(issues)}`, options)
    this.key = key
    this.issues = issues
  }
}

/** A write would give a unique index value to a second record; nothing was written. */
export class UniqueConstraintError extends ValkeyrieError {
  override name = 'UniqueConstraintError'
  /** The full key of the record being written. */
  readonly key: KvKey
  /** The name of the unique index. */
  readonly index: string
  /** The index value both records have. */
  readonly indexValue: KvKeyPart
  /** The full key of the record that already has it. */
  readonly existingKey: KvKey
  constructor(key: KvKey, index: string, indexValue: KvKeyPart, existingKey: KvKey) {
    super(
      `value at ${formatKey(key)} breaks unique index ${index}: ${formatKeyPart(indexValue)} belongs to ${formatKey(existingKey)}`,
    )
    this.key = key
    this.index = index
    this.indexValue = indexValue
    this.existingKey = existingKey
  }
}

/** A write kept losing to concurrent writes of the same keys and gave up; nothing was written. */
export class WriteConflictError extends ValkeyrieError {
  override name = 'WriteConflictError'
  /** The full key of the record being written. */
  readonly key: KvKey
  /** How many times the write was tried. */
  readonly attempts: number
  constructor(key: KvKey, attempts: number) {
    super(`write to ${formatKey(key)} lost to concurrent writes ${attempts} times in a row`)
    this.key = key
    this.attempts = attempts
  }
}

/** A key for messages: `["users", 1, 2n, true, Uint8Array[1,2]]`. */
export function formatKey(key: KvKey): string {
  return `[${key.map(formatKeyPart).join(', ')}]`
}

function formatKeyPart(part: KvKeyPart): string {
  if (typeof part === 'string') return JSON.stringify(part)
  if (typeof part === 'bigint') return `${part}n`
  if (typeof part === 'number') return Object.is(part, -0) ? '-0' : String(part)
  if (part instanceof Uint8Array) return `Uint8Array[${part.join(',')}]`
  return String(part)
}

/** The first issue with its path (`email: Invalid email address`), and how many more there are. */
function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  const first = issues[0]
  if (!first) return 'the schema reported a failure without issues'
  const path = (first.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')
  const message = first.message.replace(/\.$/, '')
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more ${issues.length === 2 ? 'issue' : 'issues'})` : ''
  return `${path ? `${path}: ` : ''}${message}${more}`
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

/** A short description of a received value for error messages: `null`, `undefined`, `a Date`, `"abc"`, `5n`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value)
    case 'number':
    case 'boolean':
      return String(value)
    case 'bigint':
      return `${value}n`
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    default: {
      if (Array.isArray(value)) return 'an array'
      const name = (value as object).constructor?.name
      return name && name !== 'Object' ? `a ${name}` : 'an object'
    }
  }
}
