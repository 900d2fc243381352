/** The default serializer: `node:v8`, which keeps everything structured clone keeps, circular references included. */
import { deserialize, serialize } from 'node:v8'
import { describeValue } from '../errors.js'
import { defineSerializer } from './serializer.js'

/** Serializes values with `node:v8` (structured clone). */
export const v8Serializer = defineSerializer({
  name: 'v8',
  serialize(value: unknown): Uint8Array {
    try {
      return serialize(value)
    } catch (error) {
      // node:v8 throws a DataCloneError (a plain Error) for functions, symbols, WeakMaps and the like.
      throw new TypeError(`the v8 serializer cannot store ${describeValue(value)}: ${(error as Error).message}`, {
        cause: error,
      })
    }
  },
  deserialize(value: Uint8Array): unknown {
    return deserialize(value)
  },
})
