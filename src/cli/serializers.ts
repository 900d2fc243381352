/** The serializers the command line can open a database with, by the name a database records. */
import type { Serializer } from '../serializers/serializer.js'

/** Each built-in serializer's module, imported only when named (bson, msgpackr and cbor-x need their package). */
const LOADERS: Record<string, () => Promise<Serializer>> = {
  v8: async () => (await import('../serializers/v8.js')).v8Serializer,
  json: async () => (await import('../serializers/json.js')).jsonSerializer,
  bson: async () => (await import('../serializers/bson.js')).bsonSerializer,
  msgpackr: async () => (await import('../serializers/msgpackr.js')).msgpackrSerializer,
  'cbor-x': async () => (await import('../serializers/cbor-x.js')).cborXSerializer,
}

/** The names `--serializer` takes. */
export const SERIALIZER_NAMES: readonly string[] = Object.keys(LOADERS)

/** Whether the command line knows a serializer by this name. */
export const isKnownSerializer = (name: string): boolean => Object.hasOwn(LOADERS, name)

/** Loads a serializer by name; a name it does not know is a `TypeError` listing those it does. */
export async function loadSerializer(name: string): Promise<Serializer> {
  const load = LOADERS[name]
  if (!Object.hasOwn(LOADERS, name) || load === undefined) {
    throw new TypeError(`unknown serializer ${JSON.stringify(name)}: use one of ${SERIALIZER_NAMES.join(', ')}`)
  }
  return load()
}
