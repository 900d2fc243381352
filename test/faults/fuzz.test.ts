/**
 * Fuzzing: random keys, values, selectors, cursors and options through the public API, collections included.
 * Every call either works or throws a TypeError or RangeError (a caller mistake), a ValidationError (a value its
 * schema refuses) or a UniqueConstraintError (a taken unique value), never anything else; afterwards the file passes
 * integrity_check and list order equals encoded-key order.
 */
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeKey } from '../../src/key/codec.js'
import { z } from 'zod'
import { type KvKey, UniqueConstraintError, Valkeyrie, ValidationError } from '../../src/index.js'
import { tempDbPath } from '../support/open-test-db.js'

const RUNS = 10_000

const keyPart = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ maxLength: 4 }),
  fc.double(),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.boolean(),
  fc.uint8Array({ maxLength: 6 }),
)
const validKey = fc.array(keyPart, { minLength: 1, maxLength: 4 })
const anyKey = fc.oneof(validKey, fc.anything(), fc.array(fc.anything(), { maxLength: 3 }), fc.constant([]))
const anyValue = fc.oneof(fc.anything(), fc.uint8Array({ maxLength: 100 }), fc.constant(undefined))
const options = fc.oneof(
  fc.constant(undefined),
  fc.record({ limit: fc.anything(), reverse: fc.anything(), batchSize: fc.anything(), cursor: fc.anything() }, { requiredKeys: [] }),
  fc.record({ limit: fc.integer({ min: 1, max: 20 }), reverse: fc.boolean(), batchSize: fc.integer({ min: 1, max: 5 }) }, { requiredKeys: [] }),
  fc.anything(),
)
const selector = fc.oneof(
  fc.record({ prefix: anyKey }),
  fc.record({ prefix: validKey, start: anyKey }),
  fc.record({ prefix: validKey, end: anyKey }),
  fc.record({ start: anyKey, end: anyKey }),
  fc.record({ prefix: fc.array(keyPart, { maxLength: 1 }) }),
  fc.anything(),
)

const operation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: anyKey, value: anyValue, options: fc.oneof(fc.constant(undefined), fc.record({ expireIn: fc.anything() }, { requiredKeys: [] })) }),
  fc.record({ op: fc.constant('get' as const), key: anyKey }),
  fc.record({ op: fc.constant('getMany' as const), keys: fc.oneof(fc.array(anyKey, { maxLength: 12 }), fc.anything()) }),
  fc.record({ op: fc.constant('delete' as const), key: anyKey }),
  fc.record({ op: fc.constant('list' as const), selector, options, cursor: fc.oneof(fc.string(), fc.base64String(), fc.constant(undefined)) }),
  fc.record({ op: fc.constant('collection-set' as const), id: fc.oneof(keyPart, fc.anything()), value: fc.oneof(fc.anything(), fc.record({ name: fc.string(), email: fc.string() }), fc.record({ name: fc.string({ maxLength: 3 }), email: fc.constantFrom('a@b.co', 'c@d.co', 'e@f.co') })) }),
  fc.record({ op: fc.constant('collection-read' as const), id: fc.oneof(keyPart, fc.anything()), email: fc.anything(), options: fc.oneof(fc.constant(undefined), fc.anything()) }),
  fc.record({
    op: fc.constant('atomic' as const),
    checks: fc.array(fc.record({ key: anyKey, versionstamp: fc.oneof(fc.constant(null), fc.string(), fc.stringMatching(/^[0-9a-f]{20}$/)) }), { maxLength: 3 }),
    mutations: fc.array(
      fc.oneof(
        fc.record({ type: fc.constant('set'), key: anyKey, value: anyValue }),
        fc.record({ type: fc.constant('delete'), key: anyKey }),
        fc.record({ type: fc.constantFrom('sum', 'min', 'max'), key: anyKey, value: fc.oneof(fc.bigInt(), fc.anything()) }),
        fc.anything(),
      ),
      { maxLength: 4 },
    ),
  }),
)

/** A caller mistake, or (collections) an invalid value or a taken unique value: expected outcomes of bad input. */
function isCallerMistake(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ValidationError ||
    error instanceof UniqueConstraintError
  )
}

const User = z.object({ name: z.string().max(20), email: z.email() })

describe('fuzzing the public API', () => {
  it(`accepts or refuses ${RUNS} random calls with only TypeError, RangeError or ValidationError`, async () => {
    const path = tempDbPath('fuzz.db')
    const db = await Valkeyrie.open(path)
    const users = db.collection(['fuzz-users'], User, { indexes: { email: { on: (u) => u.email, unique: true } } })
    let ok = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(operation, async (call) => {
        try {
          switch (call.op) {
            case 'set':
              await db.set(call.key as KvKey, call.value, call.options as never)
              break
            case 'get':
              await db.get(call.key as KvKey)
              break
            case 'getMany':
              await db.getMany(call.keys as KvKey[])
              break
            case 'delete':
              await db.delete(call.key as KvKey)
              break
            case 'list': {
              const opts = call.options === undefined || typeof call.options !== 'object' || call.options === null ? call.options : { ...call.options, ...(call.cursor === undefined ? {} : { cursor: call.cursor }) }
              await Array.fromAsync(db.list(call.selector as never, opts as never))
              break
            }
            case 'atomic':
              await db.executeAtomicOperation(call.checks as never, call.mutations as never)
              break
            case 'collection-set':
              await users.set(call.id as never, call.value as never)
              break
            case 'collection-read':
              await users.get(call.id as never)
              await users.findBy('email', call.email as never)
              await Array.fromAsync(users.list(call.options as never))
              break
          }
          ok++
        } catch (error) {
          if (!isCallerMistake(error)) throw error
          refused++
        }
      }),
      { numRuns: RUNS },
    )
    const all = await Array.fromAsync(db.list({ prefix: [] }))
    const encoded = all.map((e) => encodeKey(e.key))
    const sorted = [...encoded].sort(Buffer.compare)
    expect(encoded).toEqual(sorted)
    await db.close()
    const raw = new Database(path)
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok')
    raw.close()
    console.log(`fuzz: ${RUNS} calls, ${ok} accepted, ${refused} refused as caller mistakes, ${all.length} entries left`)
    expect(ok).toBeGreaterThan(RUNS / 20)
  })
})
