/** Public types of the key-value API, named as in Deno KV so code ports cleanly. */
import type { KvU64 } from './u64.js'

/** One part of a key. */
export type KvKeyPart = string | number | bigint | boolean | Uint8Array
/** A key: a non-empty array of parts, ordered part by part. */
export type KvKey = readonly KvKeyPart[]

/** A stored entry. */
export interface KvEntry<T = unknown> {
  key: KvKey
  value: T
  versionstamp: string
}

/** The result of a read: the entry, or nulls when the key is absent or expired. */
export type KvEntryMaybe<T = unknown> = KvEntry<T> | { key: KvKey; value: null; versionstamp: null }

/** Which keys `list` visits. */
export type KvListSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey }

export interface KvListOptions {
  /** Most entries to return in all. */
  limit?: number
  /** Resume after the entry this cursor names (from a previous iterator's `cursor`). */
  cursor?: string
  /** Descending key order. */
  reverse?: boolean
  /** Entries read per round trip to the storage (default 500, max 1000). */
  batchSize?: number
}

export interface KvSetOptions {
  /** Milliseconds until the entry expires. */
  expireIn?: number
}

/** An optimistic-concurrency check: the key's versionstamp must equal this one (`null`: the key must not exist). */
export interface AtomicCheck {
  key: KvKey
  versionstamp: string | null
}

/** One mutation of an atomic commit. */
export type KvMutation =
  | { key: KvKey; type: 'set'; value: unknown; expireIn?: number }
  | { key: KvKey; type: 'delete' }
  | { key: KvKey; type: 'sum'; value: KvU64 | bigint }
  | { key: KvKey; type: 'min'; value: KvU64 | bigint }
  | { key: KvKey; type: 'max'; value: KvU64 | bigint }

export interface KvCommitResult {
  ok: true
  versionstamp: string
}

export interface KvCommitError {
  ok: false
}

/** What `db.info()` reports: read without writing anything. */
export interface KvDatabaseInfo {
  /** Entries stored, expired ones not yet deleted included. */
  entries: number
  /** Entries a read can see now. */
  live: number
  /** Entries expired and not yet deleted (the sweep or `cleanup()` deletes them). */
  expired: number
  /** Bytes on disk (a file with its WAL, or the tables in your own database), or null when the storage cannot tell. */
  bytes: number | null
  /** The serializer the database records. */
  serializer: string
  /** The version of the storage format, or null for a storage without one (a custom driver). */
  formatVersion: number | null
  /** The versionstamp of the last commit, or null before the first. */
  versionstamp: string | null
}

/** Durability of an acknowledged write: `'full'` survives power loss, `'relaxed'` survives a process crash. */
export type Durability = 'full' | 'relaxed'

/** The names the user documentation uses, for the same types. */
export type Key = KvKey
export type KeyPart = KvKeyPart
export type Entry<T = unknown> = KvEntry<T>
export type EntryMaybe<T = unknown> = KvEntryMaybe<T>
export type ListSelector = KvListSelector
export type ListOptions = KvListOptions
export type SetOptions = KvSetOptions
export type Check = AtomicCheck
export type Mutation = KvMutation
/** Any value the chosen serializer can store. */
export type Value = unknown
