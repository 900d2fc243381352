/** The public surface of `valkeyrie`. */
import './polyfills.js'
export { Valkeyrie, type ValkeyrieOptions } from './valkeyrie.js'
export type { BulkLoadOptions } from './bulk-load.js'
export type { KvEnqueueOptions, KvEnqueueOptions as EnqueueOptions } from './queue/message.js'
export type { ListenQueueOptions } from './queue/listener.js'
export type { WatchOptions } from './watch/options.js'
export { AtomicOperation } from './atomic.js'
export { KvListIterator } from './list.js'
export { KvU64 } from './u64.js'
export {
  ValkeyrieError,
  DatabaseClosedError,
  ReadOnlyError,
  OpenError,
  SerializerMismatchError,
  StorageError,
  CorruptValueError,
  CommitUnknownResultError,
  ValidationError,
  UniqueConstraintError,
  WriteConflictError,
} from './errors.js'
export {
  Collection,
  AtomicCollection,
  type CollectionId,
  type CollectionListOptions,
  type CollectionOptions,
  type IdFor,
  type ReadValidation,
} from './collection/collection.js'
export { CollectionListIterator, type CollectionEntry, type CollectionEntryMaybe } from './collection/list.js'
export type {
  IndexDefinition,
  IndexDefinitions,
  IndexFunction,
  IndexOptions,
  IndexValue,
  NonUniqueIndexName,
  UniqueIndexName,
} from './collection/indexes.js'
export type { SchemaInput, SchemaOutput } from './collection/schema.js'
export { defineDriver, type DriverEntry, type DriverFactory, type KvDriver } from './storage/driver.js'
export { memoryDriver } from './storage/memory.js'
export { sqliteDriver } from './storage/sqlite/driver.js'
export { postgresDriver, type PostgresDriverOptions } from './storage/postgres/driver.js'
export type { PostgresPool } from './storage/postgres/client.js'
export { defineSerializer, type Serializer, type SerializedStruct } from './serializers/serializer.js'
export { v8Serializer } from './serializers/v8.js'
export { jsonSerializer } from './serializers/json.js'
export type {
  AtomicCheck,
  Durability,
  KvCommitError,
  KvCommitResult,
  KvDatabaseInfo,
  KvEntry,
  KvEntryMaybe,
  KvKey,
  KvKeyPart,
  KvListOptions,
  KvListSelector,
  KvMutation,
  KvSetOptions,
  Check,
  Entry,
  EntryMaybe,
  Key,
  KeyPart,
  ListOptions,
  ListSelector,
  Mutation,
  SetOptions,
  Value,
} from './types.js'
export * as limits from './limits.js'
