/** The serializer contract: how values become bytes in the database and back. */

/** Turns values into bytes and back. `name` is recorded in the database so a file is never read with another one. */
export interface Serializer {
  /** Recorded in the database at creation; opening it with a serializer of another name is an error. */
  readonly name?: string
  /**
   * Serializes a value to bytes. Throws `TypeError` for a value it cannot keep exactly. Never sees a KvU64:
   * Valkeyrie stores a top-level one itself (8 bytes) and refuses a nested one first.
   */
  serialize: (value: unknown) => Uint8Array
  /** Deserializes bytes written by `serialize`. */
  deserialize: (value: Uint8Array) => unknown
}

/** The shape the documented custom JSON serializer writes: the value, and whether it was a KvU64. */
export interface SerializedStruct {
  value: unknown
  isU64: number
}

/** Declares a serializer; returns it unchanged, typed. */
export function defineSerializer<T extends Serializer>(serializer: T): T {
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw new TypeError('a serializer needs serialize and deserialize functions')
  }
  return serializer
}

/** The name recorded for a serializer that has none. */
export const UNNAMED_SERIALIZER = 'custom'

/** The name a serializer is recorded under. */
export const serializerName = (serializer: Serializer): string => serializer.name ?? UNNAMED_SERIALIZER

/** Serializers whose own check already refuses a nested KvU64, so the library need not walk the value first. */
const REFUSES_NESTED_U64 = new WeakSet<Serializer>()

/**
 * @internal Declares that a built-in serializer's check refuses a nested KvU64 (with the same message). The
 * serializer is frozen: the mark vouches for its own `serialize`, so no one may swap in another function under it.
 */
export function refusesNestedU64<T extends Serializer>(serializer: T): Readonly<T> {
  REFUSES_NESTED_U64.add(serializer)
  return Object.freeze(serializer)
}

/** @internal Whether the library must walk values for nested KvU64 before calling this serializer. */
export const needsNestedU64Check = (serializer: Serializer): boolean => !REFUSES_NESTED_U64.has(serializer)
