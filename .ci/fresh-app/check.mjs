// Runs the packed package the way an application does: every public entry point, every serializer with its peer
// at its current release, an application's own Drizzle database, and the internal modules refused.
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { KvU64, Valkeyrie, jsonSerializer, v8Serializer } from 'valkeyrie'
import { KvU64 as KvU64FromSubpath } from 'valkeyrie/KvU64'
import { defineSerializer } from 'valkeyrie/serializers'
import { bsonSerializer } from 'valkeyrie/serializers/bson'
import { cborXSerializer } from 'valkeyrie/serializers/cbor-x'
import { jsonSerializer as jsonFromSubpath } from 'valkeyrie/serializers/json'
import { msgpackrSerializer } from 'valkeyrie/serializers/msgpackr'
import { kv } from 'valkeyrie/drizzle'
import { driverContract } from 'valkeyrie/testing'
import { z } from 'zod'

assert.equal(KvU64FromSubpath, KvU64)
assert.equal(jsonFromSubpath, jsonSerializer)
assert.equal(typeof defineSerializer, 'function')
assert.equal(typeof driverContract, 'function')
for (const serializer of [v8Serializer, jsonSerializer, bsonSerializer, msgpackrSerializer, cborXSerializer]) {
  const db = await Valkeyrie.open(undefined, { serializer })
  await db.set(['doc'], { name: 'Ada', at: new Date(0), bytes: new Uint8Array([1, 2]) })
  const { value } = await db.get(['doc'])
  assert.equal(value.name, 'Ada', serializer.name)
  assert.equal(value.at.getTime(), 0, serializer.name)
  await db.set(['n'], new KvU64(1n))
  await db.atomic().sum(['n'], 2n).commit()
  assert.equal((await db.get(['n'])).value.value, 3n, serializer.name)
  await assert.rejects(db.set(['nested'], { n: new KvU64(1n) }), TypeError, serializer.name)
  const users = db.collection(['users'], z.object({ name: z.string() }))
  await users.set('ada', { name: 'Ada' })
  assert.equal((await users.get('ada')).value.name, 'Ada', serializer.name)
  await db.close()
}

const client = new Database(':memory:')
const orm = drizzle({ client })
const store = await Valkeyrie.open(undefined, { database: orm, migrations: 'apply' })
await store.set(['a'], 1)
assert.equal(orm.select().from(kv).all().length, 1)
await store.close()

for (const internal of ['serializers/serializer', 'serializers/v8', 'dist/index.js', 'src/index.ts']) {
  await assert.rejects(import(`valkeyrie/${internal}`), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, internal)
}
console.log('the packed package works from a fresh application')
