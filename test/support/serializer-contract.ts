/**
 * The serializer contract: one suite every serializer runs, with its own expectation table. It drives the
 * serializer through the public API: the round-trip table (what is kept, what is converted and to what, what
 * throws `TypeError` before anything is written) and the nesting depth on SQLite in memory (what a serializer does
 * to a value, whatever stores its bytes); then on every backend of the matrix, the stored bytes: the 65,536-byte
 * limit, reopening and the serializer record, KvU64 with sum/min/max, list/getMany/atomic and expiry.
 */
import { describe, expect, it } from 'vitest'
import { KvU64, OpenError, type Serializer, type Valkeyrie, jsonSerializer, limits, v8Serializer } from '../../src/index.js'
import { describeBackends } from './backends.js'
import { openTestDb, rejection } from './open-test-db.js'

/** What a serializer does with one case: gives it back unchanged, gives back another value, or throws `TypeError`. */
export type Expectation = 'kept' | { convertedTo: unknown } | 'throws' | { throws: RegExp }

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}
class CustomError extends Error {}

const circularObject = (): unknown => {
  const value: Record<string, unknown> = { name: 'loop' }
  value.self = value
  return value
}
const circularArray = (): unknown => {
  const value: unknown[] = [1]
  value.push(value)
  return value
}
const errorWithCauseCycle = (): unknown => {
  const error = new Error('outer')
  error.cause = { error }
  return error
}

/** The documented "Nested Combinations" value (with fixed dates). */
const docsNestedCombination = () => ({
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
    { id: 2, title: 'Advanced Valkeyrie Patterns', published: false, content: new Uint8Array([1, 2, 3]) },
  ],
  activityMap: new Map<string, unknown>([
    ['lastLogin', new Date('2024-05-01T10:00:00Z')],
    ['loginCount', 37n],
    ['devices', ['desktop', 'mobile']],
  ]),
})

/** A value every serializer keeps: strings, numbers, booleans, null, a Date, a Uint8Array, nested objects and arrays. */
export const commonValue = (i = 0) => ({
  id: `user_${i}`,
  name: 'Ada Lovelace',
  age: 36 + i,
  score: 99.5,
  active: i % 2 === 0,
  nickname: null,
  joined: new Date(Date.UTC(2024, 0, 1 + i)),
  tags: ['math', 'engines', 'poetry'],
  address: { city: 'London', zip: 'W1' },
  avatar: new Uint8Array([i, 1, 2, 3]),
})

/** The round-trip table: every serializer states an expectation for every case. Each builds a fresh value. */
export const CASES = {
  string: () => 'Hello, Valkeyrie!',
  emptyString: () => '',
  unicodeString: () => 'héllo wörld, 你好, 🎉',
  stringWithNul: () => 'a\0b',
  loneSurrogate: () => 'broken \ud800 pair',
  integer: () => 42,
  float: () => 3.14159,
  negativeNumber: () => -17.25,
  largeInteger: () => 2 ** 53,
  negativeZero: () => -0,
  nan: () => NaN,
  infinity: () => Infinity,
  negativeInfinity: () => -Infinity,
  true: () => true,
  false: () => false,
  bigint: () => 9007199254740993n,
  negativeBigint: () => -42n,
  bigintBeyond64Bits: () => 2n ** 100n + 7n,
  null: () => null,
  undefined: () => undefined,
  uint8Array: () => new Uint8Array([72, 101, 108, 108, 111]),
  emptyUint8Array: () => new Uint8Array(0),
  uint8ArrayView: () => new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2, 4),
  buffer: () => Buffer.from('hello'),
  arrayBuffer: () => {
    const buffer = new ArrayBuffer(4)
    new DataView(buffer).setUint32(0, 0x12345678)
    return buffer
  },
  int16Array: () => new Int16Array([1, -2, 3]),
  dataView: () => new DataView(new Uint8Array([1, 2, 3]).buffer),
  sharedArrayBuffer: () => new SharedArrayBuffer(4),
  object: () => ({ name: 'John Doe', age: 30, isActive: true }),
  emptyObject: () => ({}),
  nestedObject: () => ({ a: { b: { c: [1, { d: 'deep' }] } } }),
  objectWithUndefined: () => ({ a: undefined, b: 1 }),
  objectWithTagLikeKeys: () => ({ $$: 'not a tag', v: 1, $undefined: true }),
  objectWithProtoKey: () => JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown,
  objectWithNulInKey: () => ({ 'a\0b': 1 }),
  objectWithBsontypeKey: () => ({ _bsontype: 'ObjectId', id: 1 }),
  nullPrototypeObject: () => Object.assign(Object.create(null) as object, { a: 1 }),
  array: () => [1, 2, 3, 'four', true],
  emptyArray: () => [],
  arrayWithUndefined: () => [undefined, 1, undefined],
  sparseArray: () => [1, , 3],
  symbolKeyedProperty: () => ({ a: 1, [Symbol.for('tag')]: 2 }),
  arrayWithSymbolKey: () => Object.assign([1, 2], { [Symbol.for('tag')]: 3 }),
  arrayWithExtraProperty: () => Object.assign([1, 2], { extra: 'x' }),
  sharedReference: () => {
    const shared = { n: 1 }
    return { a: shared, b: shared }
  },
  map: () => new Map<string, unknown>([['id', 1], ['name', 'Jane Doe'], ['roles', ['admin', 'user']]]),
  mapWithNonStringKeys: () => new Map<unknown, string>([[1, 'one'], [{ id: 2 }, 'object'], [true, 'yes']]),
  emptyMap: () => new Map(),
  set: () => new Set(['javascript', 'typescript', 'database']),
  emptySet: () => new Set(),
  date: () => new Date('2023-01-01T00:00:00Z'),
  dateWithMilliseconds: () => new Date(1234567890123),
  dateBefore1970: () => new Date(-1_000_000_000_123),
  farFutureDate: () => new Date(4410122770178564), // where seconds-as-float encodings round the last millisecond
  invalidDate: () => new Date(NaN),
  regexp: () => /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$/,
  regexpFlagsIMSU: () => /a.b/imsu,
  regexpGlobal: () => /a/g,
  regexpSticky: () => /a/y,
  docsNestedCombination,
  function: () => () => 1,
  nestedFunction: () => ({ callback: () => 1 }),
  symbol: () => Symbol('s'),
  weakMap: () => new WeakMap(),
  weakSet: () => new WeakSet(),
  weakRef: () => new WeakRef({}),
  promise: () => Promise.resolve(1),
  classInstance: () => new Point(1, 2),
  url: () => new URL('https://example.com/'),
  boxedString: () => new String('boxed'),
  error: () => new Error('boom'),
  typeErrorWithCause: () => new TypeError('bad', { cause: { code: 42 } }),
  customErrorClass: () => new CustomError('custom'),
  errorWithExtraProperty: () => Object.assign(new Error('with code'), { code: 'E_CODE' }),
  errorWithCauseCycle,
  circularObject,
  circularArray,
}

export type CaseName = keyof typeof CASES

export interface ContractTable {
  /** The name the serializer is recorded under. */
  name: string
  /** What the serializer does with each case of the table. */
  cases: Record<CaseName, Expectation>
  /** Whether a 60,000-byte Uint8Array fits in 65,536 serialized bytes. */
  sixtyKilobyteBinary: 'fits' | 'too large'
}

const nested = (value: unknown): unknown => ({ nested: [value] })

async function expectRejectedWrite(db: Valkeyrie, key: unknown[], value: unknown, name: string, message: RegExp) {
  const error = await rejection(db.set(key as never, value))
  expect(error).toBeInstanceOf(TypeError)
  expect(error.message).toMatch(new RegExp(`^the ${name} serializer cannot store`))
  expect(error.message).toMatch(message)
  expect(await db.get(key as never)).toEqual({ key, value: null, versionstamp: null })
}

/** Runs the serializer contract for `serializer`, expecting what `table` says. */
export function serializerContract(serializer: Serializer, table: ContractTable): void {
  const name = table.name
  const open = (path?: string) => openTestDb(path, { serializer })

  describe(`${name} serializer contract`, () => {
    it(`is recorded as ${JSON.stringify(name)}`, () => {
      expect(serializer.name).toBe(name)
    })

    describe('round-trip table', () => {
      for (const [caseName, expectation] of Object.entries(table.cases) as [CaseName, Expectation][]) {
        const make = CASES[caseName] as () => unknown
        if (expectation === 'kept' || (typeof expectation === 'object' && 'convertedTo' in expectation)) {
          const kept = expectation === 'kept'
          it(`${kept ? 'keeps' : 'converts'} ${caseName}, at the top and nested`, async () => {
            const db = await open()
            const expected = kept ? make() : expectation.convertedTo
            await db.set(['top'], make())
            await db.set(['nested'], nested(make()))
            expect((await db.get(['top'])).value).toStrictEqual(expected)
            expect((await db.get(['nested'])).value).toStrictEqual(nested(expected))
            // The serializer alone agrees with the database.
            expect(serializer.deserialize(serializer.serialize(make()))).toStrictEqual(expected)
          })
        } else {
          const message = expectation === 'throws' ? /./ : expectation.throws
          it(`throws TypeError for ${caseName}, at the top and nested, and writes nothing`, async () => {
            const db = await open()
            await expectRejectedWrite(db, ['top'], make(), name, message)
            await expectRejectedWrite(db, ['nested'], nested(make()), name, message)
            expect(() => serializer.serialize(make())).toThrow(TypeError)
            const atomic = await rejection(db.atomic().set(['ok'], 'fine').set(['bad'], make()).commit())
            expect(atomic).toBeInstanceOf(TypeError)
            expect((await db.get(['ok'])).value).toBeNull()
          })
        }
      }
    })

    describe('nesting depth', () => {
      const MAX = limits.MAX_VALUE_DEPTH
      const deepObject = (levels: number): unknown => {
        let value: unknown = 'leaf'
        for (let i = 0; i < levels; i++) value = { a: value }
        return value
      }
      const deepArray = (levels: number): unknown => {
        let value: unknown = 'leaf'
        for (let i = 0; i < levels; i++) value = [value]
        return value
      }
      /** Runs `fn` under `frames` extra stack frames, as a caller deep in its own recursion would. */
      const underDeepStack = <T>(frames: number, fn: () => T): T => (frames === 0 ? fn() : underDeepStack(frames - 1, fn))

      it(`stores and reads back a value nested ${MAX} levels deep, also from a deep stack`, async () => {
        const db = await open()
        for (const [label, make] of [['object', deepObject], ['array', deepArray]] as const) {
          await db.set(['deep', label], make(MAX))
          expect((await db.get(['deep', label])).value, label).toStrictEqual(make(MAX))
          const bytes = serializer.serialize(make(MAX))
          expect(underDeepStack(5000, () => serializer.deserialize(bytes)), label).toStrictEqual(make(MAX))
          const read = await underDeepStack(5000, () => db.get(['deep', label]))
          expect(read.value, label).toStrictEqual(make(MAX))
        }
        const listed = await Array.fromAsync(db.list({ prefix: ['deep'] }))
        expect(listed.map((e) => e.value)).toStrictEqual([deepArray(MAX), deepObject(MAX)])
      })

      it(`refuses a value nested ${MAX + 1} levels deep with a RangeError naming the limit and the path, and writes nothing`, async () => {
        const db = await open()
        const cases: [unknown, RegExp][] = [
          [deepObject(MAX + 1), new RegExp(`found an object at value(\\.a){${MAX}}$`)],
          [deepArray(MAX + 1), new RegExp(`found an array at value(\\[0\\]){${MAX}}$`)],
          [{ list: [deepObject(MAX - 1)] }, new RegExp(`found an object at value\\.list\\[0\\](\\.a){${MAX - 2}}$`)],
        ]
        for (const [value, path] of cases) {
          const error = await rejection(db.set(['deep'], value))
          expect(error).toBeInstanceOf(RangeError)
          expect(error.message).toMatch(
            new RegExp(`^the ${name} serializer cannot store a value nested more than ${MAX} levels deep: `),
          )
          expect(error.message).toMatch(path)
          expect(() => serializer.serialize(value)).toThrow(RangeError)
        }
        expect(await db.get(['deep'])).toEqual({ key: ['deep'], value: null, versionstamp: null })
      })

      it('refuses a value nested 100,000 levels deep with the same RangeError, not a stack overflow', async () => {
        const db = await open()
        for (const value of [deepObject(100_000), deepArray(100_000)]) {
          const error = await rejection(db.set(['deep'], value))
          expect(error.message).toMatch(new RegExp(`nested more than ${MAX} levels deep`))
        }
      })
    })

    // What the backend does with the serializer's bytes: stored, limited, reopened, listed, committed, expired.
    describeBackends('stored', (backend) => {
      const open = () => backend.open({ serializer })
      if (backend.persistent) it('gives back the same kept values after the database is closed and reopened, and refuses another serializer', async () => {
        const place = backend.create()
        const keptCases = (Object.entries(table.cases) as [CaseName, Expectation][])
          .filter(([, expectation]) => expectation === 'kept')
          .map(([caseName]) => caseName)
        const db = await place.openOwn({ serializer })
        for (const caseName of keptCases) await db.set(['case', caseName], CASES[caseName]())
        await db.close()
        const again = await place.openOwn({ serializer })
        for (const caseName of keptCases) {
          expect((await again.get(['case', caseName])).value, caseName).toStrictEqual(CASES[caseName]())
        }
        await again.close()
        const other = name === 'json' ? v8Serializer : jsonSerializer
        const attempt = rejection(place.openOwn({ serializer: other }))
        expect(await attempt).toBeInstanceOf(OpenError)
        expect((await attempt).message).toContain(`${name} serializer`)
      })

      describe('size limit', () => {
        it(`${table.sixtyKilobyteBinary === 'fits' ? 'stores' : 'refuses'} a 60,000-byte Uint8Array`, async () => {
          const db = await open()
          const value = new Uint8Array(60_000).fill(7)
          if (table.sixtyKilobyteBinary === 'fits') {
            await db.set(['blob'], value)
            expect((await db.get(['blob'])).value).toStrictEqual(value)
          } else {
            await expect(db.set(['blob'], value)).rejects.toThrow(RangeError)
            expect((await db.get(['blob'])).value).toBeNull()
          }
        })

        it('measures the limit on the serialized bytes: 65,536 fits, one more is a RangeError and writes nothing', async () => {
          const db = await open()
          const size = (n: number) => serializer.serialize('x'.repeat(n)).length
          // The longest string whose serialized form fits.
          let low = 0
          let high = limits.MAX_VALUE_BYTES
          while (low < high) {
            const mid = Math.ceil((low + high) / 2)
            if (size(mid) <= limits.MAX_VALUE_BYTES) low = mid
            else high = mid - 1
          }
          expect(size(low)).toBeLessThanOrEqual(limits.MAX_VALUE_BYTES)
          expect(size(low)).toBeGreaterThan(limits.MAX_VALUE_BYTES - 16)
          expect(size(low + 1)).toBeGreaterThan(limits.MAX_VALUE_BYTES)
          await db.set(['fits'], 'x'.repeat(low))
          expect((await db.get(['fits'])).value).toBe('x'.repeat(low))
          const error = await rejection(db.set(['too-big'], 'x'.repeat(low + 1)))
          expect(error).toBeInstanceOf(RangeError)
          expect(error.message).toMatch(/^Value too large \(max 65536 bytes\)/)
          expect((await db.get(['too-big'])).value).toBeNull()
        })
      })

      describe('KvU64', () => {
        it('stores a top-level KvU64 and gives back a KvU64, up to 2^64-1', async () => {
          const db = await open()
          await db.set(['zero'], new KvU64(0n))
          await db.set(['max'], new KvU64(2n ** 64n - 1n))
          const zero = (await db.get(['zero'])).value
          const max = (await db.get(['max'])).value
          expect(zero).toBeInstanceOf(KvU64)
          expect((zero as KvU64).value).toBe(0n)
          expect(max).toBeInstanceOf(KvU64)
          expect((max as KvU64).value).toBe(2n ** 64n - 1n)
        })

        it('runs sum, min and max, with sum wrapping modulo 2^64', async () => {
          const db = await open()
          const value = async () => ((await db.get(['counter'])).value as KvU64).value
          await db.set(['counter'], new KvU64(10n))
          await db.atomic().sum(['counter'], new KvU64(5n)).commit()
          expect(await value()).toBe(15n)
          await db.atomic().max(['counter'], new KvU64(100n)).commit()
          expect(await value()).toBe(100n)
          await db.atomic().min(['counter'], new KvU64(50n)).commit()
          expect(await value()).toBe(50n)
          await db.atomic().sum(['counter'], 2n ** 64n - 1n).commit()
          expect(await value()).toBe(49n)
          await db.atomic().sum(['missing'], 7n).commit()
          expect(((await db.get(['missing'])).value as KvU64).value).toBe(7n)
        })

        it('refuses a nested KvU64 with a TypeError and writes nothing', async () => {
          const db = await open()
          for (const value of [{ visitors: new KvU64(1n) }, [new KvU64(1n)], new Map([['k', new KvU64(1n)]])]) {
            await expect(db.set(['stats'], value)).rejects.toThrow(/KvU64 must be a top-level value/)
          }
          expect((await db.get(['stats'])).value).toBeNull()
        })

        it('refuses sum on a value that is not a KvU64 and applies nothing of the commit', async () => {
          const db = await open()
          await db.set(['text'], 'not a number')
          const before = await db.get(['text'])
          const error = await rejection(db.atomic().set(['other'], 1).sum(['text'], 1n).commit())
          expect(error).toBeInstanceOf(TypeError)
          expect(await db.get(['text'])).toEqual(before)
          expect((await db.get(['other'])).value).toBeNull()
        })
      })

      describe('list, getMany and atomic', () => {
        it('lists, pages and reads back values in key order, both ways', async () => {
          const db = await open()
          const op = db.atomic()
          for (let i = 0; i < 5; i++) op.set(['users', i], commonValue(i))
          const result = await op.commit()
          expect(result.ok).toBe(true)
          const all = await Array.fromAsync(db.list({ prefix: ['users'] }))
          expect(all.map((e) => e.key)).toEqual([0, 1, 2, 3, 4].map((i) => ['users', i]))
          expect(all.map((e) => e.value)).toStrictEqual([0, 1, 2, 3, 4].map(commonValue))
          const reversed = await Array.fromAsync(db.list({ prefix: ['users'] }, { reverse: true }))
          expect(reversed.map((e) => e.value)).toStrictEqual([4, 3, 2, 1, 0].map(commonValue))
          const page1 = db.list({ prefix: ['users'] }, { limit: 2 })
          expect((await Array.fromAsync(page1)).map((e) => e.value)).toStrictEqual([0, 1].map(commonValue))
          const page2 = db.list({ prefix: ['users'] }, { limit: 2, cursor: page1.cursor })
          expect((await Array.fromAsync(page2)).map((e) => e.value)).toStrictEqual([2, 3].map(commonValue))
          const many = await db.getMany([['users', 3], ['users', 9], ['users', 0]])
          expect(many.map((e) => e.value)).toStrictEqual([commonValue(3), null, commonValue(0)])
        })

        it('commits checks and sets together, and a failed check writes nothing', async () => {
          const db = await open()
          const first = await db.set(['doc'], commonValue(1))
          const ok = await db.atomic()
            .check({ key: ['doc'], versionstamp: first.versionstamp })
            .set(['doc'], commonValue(2))
            .set(['log', 1], commonValue(3))
            .commit()
          expect(ok.ok).toBe(true)
          const failed = await db.atomic()
            .check({ key: ['doc'], versionstamp: first.versionstamp })
            .set(['doc'], commonValue(4))
            .commit()
          expect(failed).toEqual({ ok: false })
          expect((await db.get(['doc'])).value).toStrictEqual(commonValue(2))
          expect((await db.get(['log', 1])).value).toStrictEqual(commonValue(3))
        })

        it('refuses a whole commit when one value cannot be stored, before writing anything', async () => {
          const db = await open()
          const before = await db.set(['marker'], 'before')
          for (const attempt of [
            () => db.atomic().set(['a'], commonValue(1)).set(['b'], { fn: () => 1 }).commit(),
            () => db.executeAtomicOperation([], [
              { type: 'set', key: ['a'], value: commonValue(1) },
              { type: 'set', key: ['b'], value: Symbol('nope') },
            ]),
          ]) {
            expect(await rejection(attempt())).toBeInstanceOf(TypeError)
          }
          expect((await db.get(['a'])).value).toBeNull()
          // No versionstamp was consumed: the next write is as far from `before` as the one after it is from it.
          const stamp = (versionstamp: string) => BigInt(`0x${versionstamp}`)
          const next = await db.set(['marker'], 'after')
          const nextAgain = await db.set(['marker'], 'again')
          expect(stamp(next.versionstamp) - stamp(before.versionstamp)).toBe(stamp(nextAgain.versionstamp) - stamp(next.versionstamp))
        })

        it('expires values written with expireIn', async () => {
          let now = 1_000_000
          const db = await backend.open({ serializer, clock: () => now, sweepInterval: 0 })
          await db.set(['session'], commonValue(0), { expireIn: 1000 })
          expect((await db.get(['session'])).value).toStrictEqual(commonValue(0))
          now += 1000
          expect((await db.get(['session'])).value).toBeNull()
        })
      })
    })
  })
}
