// A small application using every public entry point, type-checked against the packed package.
import { KvU64, Valkeyrie, jsonSerializer, type KvEntryMaybe } from 'valkeyrie'
import { KvU64 as KvU64FromSubpath } from 'valkeyrie/KvU64'
import { defineSerializer, v8Serializer, type Serializer } from 'valkeyrie/serializers'
import { jsonSerializer as jsonFromSubpath } from 'valkeyrie/serializers/json'
import { bsonSerializer } from 'valkeyrie/serializers/bson'
import { msgpackrSerializer } from 'valkeyrie/serializers/msgpackr'
import { cborXSerializer } from 'valkeyrie/serializers/cbor-x'
import { createKvTables, kv } from 'valkeyrie/drizzle'
import { driverContract } from 'valkeyrie/testing'
import { z } from 'zod'
// @ts-expect-error only the public entry points are exported
import { refusesNestedU64 } from 'valkeyrie/serializers/serializer'

const serializers: Serializer[] = [v8Serializer, jsonSerializer, jsonFromSubpath, bsonSerializer, msgpackrSerializer, cborXSerializer]
const custom = defineSerializer({ name: 'mine', serialize: (v: unknown) => new TextEncoder().encode(JSON.stringify(v)), deserialize: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown })

const db = await Valkeyrie.open(undefined, { serializer: serializers[0] ?? custom })
const entry: KvEntryMaybe<{ n: number }> = await db.get<{ n: number }>(['a'])
const n: number | undefined = entry.value?.n
await db.set(['counter'], new KvU64FromSubpath(1n))
const counter = await db.get<KvU64>(['counter'])
const users = db.collection(['users'], z.object({ name: z.string() }))
// @ts-expect-error the database option is typed (not any), with or without @types/better-sqlite3
await Valkeyrie.open(undefined, { database: 42 })
const tables = createKvTables({ kv: 'app_kv', meta: 'app_kv_meta' })
export { n, counter, users, tables, kv, driverContract, refusesNestedU64 }
