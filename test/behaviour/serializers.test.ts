import { describe, expect, it } from 'vitest'
import {
  defineSerializer,
  jsonSerializer,
  KvU64,
  type SerializedStruct,
  limits,
  OpenError,
  type Serializer,
  v8Serializer,
  Valkeyrie,
} from '../../src/index.js'
import { bsonSerializer } from '../../src/serializers/bson.js'
import { cborXSerializer } from '../../src/serializers/cbor-x.js'
import * as serializers from '../../src/serializers/index.js'
import { msgpackrSerializer } from '../../src/serializers/msgpackr.js'
import { describeBackends } from '../support/backends.js'
import { openTestDb, rejection, tempDbPath } from '../support/open-test-db.js'

const BUILT_IN: [string, Serializer][] = [
  ['v8', v8Serializer],
  ['json', jsonSerializer],
  ['bson', bsonSerializer],
  ['msgpackr', msgpackrSerializer],
  ['cbor-x', cborXSerializer],
]

describe('serializers', () => {
  it('exports defineSerializer and the built-in serializers that need no package from valkeyrie/serializers', () => {
    expect(serializers.defineSerializer).toBe(defineSerializer)
    expect(serializers.v8Serializer).toBe(v8Serializer)
    expect(serializers.jsonSerializer).toBe(jsonSerializer)
  })

  it('limits the serialized value: a 60 KB Uint8Array fits with V8 and is too large as JSON (base64)', async () => {
    const bytes = new Uint8Array(60_000).fill(1)
    const v8Db = await openTestDb()
    await v8Db.set(['file'], bytes)
    expect((await v8Db.get(['file'])).value).toStrictEqual(bytes)
    const jsonDb = await openTestDb(undefined, { serializer: jsonSerializer })
    const jsonSize = jsonSerializer.serialize(bytes).length // 80,000 base64 characters and the tag around them
    expect(jsonSize).toBe(80_026)
    await expect(jsonDb.set(['file'], bytes)).rejects.toThrow(
      new RangeError(`Value too large (max 65536 bytes): received ${jsonSize}`),
    )
    expect((await jsonDb.get(['file'])).value).toBeNull()
  })

  it('handles errors as the documented error-handling example expects', async () => {
    for (const [, serializer] of BUILT_IN) {
      const db = await openTestDb(undefined, { serializer })
      const kinds: string[] = []
      for (const value of [() => 'not storable', new Uint8Array(70_000)]) {
        try {
          await db.set(['key'], value)
        } catch (error) {
          if (error instanceof TypeError) kinds.push('TypeError')
          else if (error instanceof RangeError) kinds.push('RangeError')
          else kinds.push('other')
        }
      }
      expect(kinds).toEqual(['TypeError', 'RangeError'])
    }
  })

  it('never stores a nested KvU64 through a built-in serializer whose functions were swapped: they cannot be', async () => {
    const keepsU64AsObject = (value: unknown): Uint8Array =>
      new TextEncoder().encode(JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)))
    for (const [name, serializer] of BUILT_IN) {
      expect(Object.isFrozen(serializer), name).toBe(true)
      const writable = serializer as { serialize: Serializer['serialize'] }
      expect(() => {
        writable.serialize = keepsU64AsObject
      }, name).toThrow(TypeError)
      expect(() => Object.defineProperty(serializer, 'serialize', { value: keepsU64AsObject }), name).toThrow(TypeError)
      const db = await openTestDb(undefined, { serializer })
      const error = await rejection(db.set(['nested'], { n: new KvU64(1n) }))
      expect(error, name).toBeInstanceOf(TypeError)
      expect(error.message, name).toMatch(/^KvU64 must be a top-level value/)
      expect((await db.get(['nested'])).value, name).toBeNull()
    }
  })

  describe('the documented value examples, with the V8 and the JSON serializer', () => {
    for (const serializer of [v8Serializer, jsonSerializer]) {
      it(`keeps every documented value type with ${serializer.name}`, async () => {
        const db = await openTestDb(undefined, { serializer })
        const roundTrip = async (key: string[], value: unknown) => {
          await db.set(key, value)
          expect((await db.get(key)).value, key.join('/')).toStrictEqual(value)
        }
        await roundTrip(['primitives', 'string'], 'Hello, Valkeyrie!')
        await roundTrip(['primitives', 'number'], 42)
        await roundTrip(['primitives', 'float'], 3.14159)
        await roundTrip(['primitives', 'boolean'], true)
        await roundTrip(['primitives', 'bigint'], 9007199254740992n)
        await roundTrip(['primitives', 'null'], null)
        await roundTrip(['primitives', 'undefined'], undefined)
        await roundTrip(['binary', 'uint8array'], new Uint8Array([72, 101, 108, 108, 111]))
        const buffer = new ArrayBuffer(4)
        const view = new DataView(buffer)
        view.setUint32(0, 0x12345678)
        await roundTrip(['binary', 'arraybuffer'], buffer)
        await roundTrip(['complex', 'object'], { name: 'John Doe', age: 30, isActive: true })
        await roundTrip(['complex', 'array'], [1, 2, 3, 'four', true])
        const userMap = new Map()
        userMap.set('id', 1)
        userMap.set('name', 'Jane Doe')
        userMap.set('roles', ['admin', 'user'])
        await roundTrip(['complex', 'map'], userMap)
        await roundTrip(['complex', 'set'], new Set(['javascript', 'typescript', 'database']))
        await roundTrip(['dates', 'created'], new Date())
        await roundTrip(['dates', 'specific'], new Date('2023-01-01T00:00:00Z'))
        await roundTrip(['regex', 'email'], /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/)
        await roundTrip(['regex', 'phone'], /^\+?[1-9]\d{1,14}$/)

        const counter = new KvU64(1000n)
        await db.set(['counters', 'visitors'], counter)
        const result = await db.get<KvU64>(['counters', 'visitors'])
        expect(result.value).toBeInstanceOf(KvU64)
        expect(result.value?.value).toBe(1000n)
      })

      it(`stores the documented nested combination and reads it back as documented with ${serializer.name}`, async () => {
        const db = await openTestDb(undefined, { serializer })
        await expect(db.set(['stats'], { visitors: new KvU64(1000n), pageViews: new KvU64(5000n) })).rejects.toThrow(
          TypeError,
        )
        await db.set(['stats'], { visitors: 1000n, pageViews: 5000n })
        await db.set(['users', 'user123'], {
          profile: {
            name: 'Alice Johnson',
            age: 28,
            joined: new Date('2022-03-15'),
            preferences: { theme: 'dark', notifications: true, tags: new Set(['tech', 'programming', 'databases']) },
          },
          posts: [
            {
              id: 1,
              title: 'Getting Started with Valkeyrie',
              published: true,
              tags: ['database', 'tutorial'],
              stats: { views: 1256n, likes: 42n },
            },
            { id: 2, title: 'Advanced Valkeyrie Patterns', published: false, content: new Uint8Array([]) },
          ],
          activityMap: new Map<string, unknown>([
            ['lastLogin', new Date()],
            ['loginCount', 37n],
            ['devices', ['desktop', 'mobile']],
          ]),
        })
        await db.set(['users', 'user123', 'posts', '1', 'views'], new KvU64(1256n))
        await db.set(['users', 'user123', 'posts', '1', 'likes'], new KvU64(42n))
        await db.set(['users', 'user123', 'loginCount'], new KvU64(37n))

        type User = {
          profile: { name: string; preferences: { tags: Set<string> } }
          posts: { stats: { views: bigint } }[]
          activityMap: Map<string, unknown>
        }
        const user = await db.get<User>(['users', 'user123'])
        expect(user.value?.profile.name).toBe('Alice Johnson')
        expect(user.value?.profile.preferences.tags.has('tech')).toBe(true)
        expect(user.value?.posts[0]?.stats.views).toBe(1256n)
        expect(user.value?.activityMap.get('loginCount')).toBe(37n)
        const views = await db.get<KvU64>(['users', 'user123', 'posts', '1', 'views'])
        expect(views.value?.value).toBe(1256n)
        const loginCount = await db.get<KvU64>(['users', 'user123', 'loginCount'])
        expect(loginCount.value?.value).toBe(37n)
        await db.atomic().sum(['users', 'user123', 'loginCount'], 1n).commit()
        expect((await db.get<KvU64>(['users', 'user123', 'loginCount'])).value?.value).toBe(38n)
      })
    }
  })

  describe('the documented serializers that need a package', () => {
    it('opens databases with bsonSerializer, msgpackrSerializer and cborXSerializer as documented', async () => {
      const dbBson = await openTestDb(tempDbPath('bson-data.db'), { serializer: bsonSerializer })
      const dbMsgpack = await openTestDb(tempDbPath('msgpack-data.db'), { serializer: msgpackrSerializer })
      const dbCbor = await openTestDb(tempDbPath('cbor-data.db'), { serializer: cborXSerializer })
      const value = { name: 'Ada', joined: new Date('2024-01-01'), avatar: new Uint8Array([1, 2]), tags: ['x'] }
      for (const db of [dbBson, dbMsgpack, dbCbor]) {
        await db.set(['users', 'ada'], value)
        expect((await db.get(['users', 'ada'])).value).toStrictEqual(value)
      }
    })

    it('converts only as documented: msgpackr gives a Map back as an object and a Set as an array', async () => {
      const db = await openTestDb(undefined, { serializer: msgpackrSerializer })
      await db.set(['prefs'], { theme: new Map([['dark', true]]), tags: new Set(['a', 'b']) })
      expect((await db.get(['prefs'])).value).toStrictEqual({ theme: { dark: true }, tags: ['a', 'b'] })
    })

    it('converts only as documented: cbor-x gives an ArrayBuffer back as a Uint8Array', async () => {
      const db = await openTestDb(undefined, { serializer: cborXSerializer })
      await db.set(['raw'], new Uint8Array([1, 2, 3]).buffer)
      expect((await db.get(['raw'])).value).toStrictEqual(new Uint8Array([1, 2, 3]))
    })

    it('refuses what BSON lacks (Map, Set, bigint) with a TypeError naming the type', async () => {
      const db = await openTestDb(undefined, { serializer: bsonSerializer })
      await expect(db.set(['m'], new Map())).rejects.toThrow('the bson serializer cannot store a Map')
      await expect(db.set(['s'], { tags: new Set() })).rejects.toThrow('the bson serializer cannot store a Set at value.tags')
      await expect(db.set(['b'], [1n])).rejects.toThrow('the bson serializer cannot store 1n at value[0]')
    })

    it('keeps circular references with V8 only; the others throw a TypeError', async () => {
      for (const [name, serializer] of BUILT_IN) {
        const db = await openTestDb(undefined, { serializer })
        const node: Record<string, unknown> = { name: 'a' }
        node.next = node
        if (name === 'v8') {
          await db.set(['loop'], node)
          const back = (await db.get<typeof node>(['loop'])).value
          expect(back?.next).toBe(back)
        } else {
          await expect(db.set(['loop'], node)).rejects.toThrow(
            new TypeError(`the ${name} serializer cannot store a circular reference at value.next`),
          )
        }
      }
    })
  })

  describe('the documented custom serializer', () => {
    // The example from the documentation, as written (imports from the package's source here).
    const myCustomSerializer = defineSerializer({
      serialize: (value: unknown): Uint8Array => {
        // Determine if the value is a KvU64
        const isU64 = value instanceof KvU64 ? 1 : 0

        // Implement your serialization logic here
        // For example, using JSON with some custom handling
        const serialized = Buffer.from(
          JSON.stringify({
            value: isU64 ? (value as KvU64).value.toString() : value,
            isU64,
          } satisfies SerializedStruct),
          'utf8',
        )

        // Check size limits
        if (serialized.length > 65536 + 21) {
          throw new TypeError('Value too large (max 65536 bytes)')
        }

        return serialized
      },

      deserialize: (value: Uint8Array): unknown => {
        // Implement your deserialization logic here
        // For example, parsing JSON and handling special types
        const jsonString = Buffer.from(value).toString('utf8')
        const { value: deserialized, isU64 } = JSON.parse(jsonString) as SerializedStruct

        // Handle KvU64 values
        if (isU64) {
          return new KvU64(BigInt(deserialized as string))
        }

        return deserialized
      },
    })

    it('stores and reads values, KvU64 counters included, and keeps the file across reopen', async () => {
      const path = tempDbPath('custom.db')
      const db = await Valkeyrie.open(path, { serializer: myCustomSerializer })
      await db.set(['users', 'ada'], { name: 'Ada', tags: ['math'] })
      await db.set(['counter'], new KvU64(5n))
      await db.atomic().sum(['counter'], 2n).commit()
      await db.close()
      const again = await openTestDb(path, { serializer: myCustomSerializer })
      expect((await again.get(['users', 'ada'])).value).toEqual({ name: 'Ada', tags: ['math'] })
      const counter = await again.get<KvU64>(['counter'])
      expect(counter.value).toBeInstanceOf(KvU64)
      expect(counter.value?.value).toBe(7n)
      expect((await Array.fromAsync(again.list({ prefix: ['users'] }))).map((e) => e.value)).toEqual([
        { name: 'Ada', tags: ['math'] },
      ])
    })

    it('holds values to the nesting limit too, before calling serialize', async () => {
      const db = await openTestDb(undefined, { serializer: myCustomSerializer })
      const nest = (levels: number): unknown => {
        let value: unknown = 1
        for (let i = 0; i < levels; i++) value = { a: value }
        return value
      }
      await db.set(['ok'], nest(limits.MAX_VALUE_DEPTH))
      expect((await db.get(['ok'])).value).toEqual(nest(limits.MAX_VALUE_DEPTH))
      for (const levels of [limits.MAX_VALUE_DEPTH + 1, 100_000]) {
        const error = await rejection(db.set(['deep'], nest(levels)))
        expect(error).toBeInstanceOf(RangeError)
        expect(error.message).toMatch(/^the custom serializer cannot store a value nested more than 128 levels deep: found an object at value(\.a){128}$/)
      }
      expect((await db.get(['deep'])).value).toBeNull()
    })

    it('rejects a serializer without serialize and deserialize functions', () => {
      expect(() => defineSerializer({ serialize: () => new Uint8Array() } as never)).toThrow(TypeError)
    })
  })
})

/** The serializer's name is recorded in the database, whatever stores it. */
describeBackends('the serializer record', (backend) => {
  it('gives each built-in serializer a stable name, recorded in the database', async () => {
    expect(BUILT_IN.map(([, serializer]) => serializer.name)).toEqual(BUILT_IN.map(([name]) => name))
    for (const [name, serializer] of BUILT_IN) {
      const place = backend.create()
      await (await place.openOwn({ serializer })).close()
      const other = serializer === cborXSerializer ? bsonSerializer : cborXSerializer
      const error = await rejection(place.openOwn({ serializer: other }))
      expect(error).toBeInstanceOf(OpenError)
      expect(error.message).toContain(`${name} serializer, but was opened with the ${other.name} serializer`)
    }
  })

  it('uses the V8 serializer by default', async () => {
    const place = backend.create()
    await (await place.openOwn()).close()
    await expect(place.openOwn({ serializer: jsonSerializer })).rejects.toThrow(/written with the v8 serializer/)
    await (await place.openOwn({ serializer: v8Serializer })).close()
  })

  it('records a serializer without a name as "custom"', async () => {
    const custom = defineSerializer({ serialize: (value) => v8Serializer.serialize(value), deserialize: (bytes) => v8Serializer.deserialize(bytes) })
    const place = backend.create()
    await (await place.openOwn({ serializer: custom })).close()
    await expect(place.openOwn()).rejects.toThrow(/custom serializer, but was opened with the v8 serializer/)
  })
}, (backend) => backend.persistent)
