import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { openKv, KvU64 as DenoKvU64 } from '@deno/kv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonSerializer, type KvKey, KvU64, type Serializer, Valkeyrie } from '../../../src/index.js'
import { bsonSerializer } from '../../../src/serializers/bson.js'
import { cborXSerializer } from '../../../src/serializers/cbor-x.js'
import { msgpackrSerializer } from '../../../src/serializers/msgpackr.js'
import { buildCli, type BuiltCli } from '../../support/cli.js'
import { tempDbPath } from '../../support/open-test-db.js'

let cli: BuiltCli
beforeAll(() => {
  cli = buildCli()
}, 60_000)
afterAll(() => cli?.remove())

const ok = (args: string[], input?: string) => {
  const result = cli.run(args, input === undefined ? {} : { input })
  expect(result.stderr, `valkeyrie ${args.join(' ')}`).toBe('')
  expect(result.code).toBe(0)
  return result.stdout
}

/** Every entry of a database file, read with the library. */
async function entriesOf(path: string, serializer?: Serializer): Promise<{ key: KvKey; value: unknown }[]> {
  const db = await Valkeyrie.open(path, serializer ? { serializer } : {})
  try {
    return (await Array.fromAsync(db.list({ prefix: [] }))).map(({ key, value }) => ({ key, value }))
  } finally {
    await db.close()
  }
}

async function fill(path: string, entries: [KvKey, unknown][], serializer?: Serializer): Promise<void> {
  const db = await Valkeyrie.open(path, serializer ? { serializer } : {})
  for (const [key, value] of entries) await db.set(key, value)
  await db.close()
}

const error = new TypeError('bad input', { cause: new RangeError('deeper') })

/** What every serializer keeps exactly. */
const common: [KvKey, unknown][] = [
  [['string'], 'héllo, wörld'],
  [['numbers'], [0, 1.5, -2, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity]],
  [['scalars'], [true, false, null]],
  [['undefined'], undefined],
  [['nested'], { a: { b: [1, { c: 'd', e: [[]] }] }, empty: {} }],
  [['date'], new Date('2024-02-29T12:00:00.123Z')],
  [['bytes'], new Uint8Array([0, 1, 127, 128, 255])],
  [['counter'], new KvU64(18446744073709551615n)],
  [['dollars'], { $$: 'not a tag', v: 1 }],
  // Keys of every part type.
  [[1n, -5n, 2n ** 70n], 'bigint key'],
  [[new Uint8Array([0, 255])], 'bytes key'],
  [[-0, 0, 1.5, NaN, -Infinity], 'number key'],
  [[true, false, 'mixed', 3], 'mixed key'],
]

/** What only some serializers keep. */
const extras = {
  v8: [
    [['v8', 'bigint'], [0n, -5n, 2n ** 100n]],
    [['v8', 'map'], new Map<unknown, unknown>([[1, 'one'], [{ k: 1 }, new Set([1n])]])],
    [['v8', 'set'], new Set(['a', 1, null, undefined])],
    [['v8', 'regexp'], /a+b/dgimsuy],
    [['v8', '-0'], -0],
    [['v8', 'invalid date'], new Date(NaN)],
    [['v8', 'buffer'], Buffer.from('buffer')],
    [['v8', 'arraybuffer'], new Uint8Array([9, 8, 7]).buffer],
    [['v8', 'typed'], [new Float64Array([1.5, -0]), new BigInt64Array([-1n]), new Int16Array([-2, 3]), new DataView(new Uint8Array([1, 2]).buffer)]],
    // eslint-disable-next-line no-sparse-arrays
    [['v8', 'sparse'], [1, , 3]],
    [['v8', 'boxed'], [Object('s'), Object(1), Object(false), Object(5n)]],
    [['v8', 'error'], error],
    [['v8', 'lone surrogate'], '\ud800'],
    [['v8', '__proto__'], JSON.parse('{"__proto__": {"x": 1}}')],
  ],
  json: [
    [['json', 'bigint'], [0n, 2n ** 100n]],
    [['json', 'map'], new Map<unknown, unknown>([[1, 'one'], ['two', new Set([2])]])],
    [['json', 'regexp'], /x/gi],
    [['json', '-0'], -0],
    [['json', 'buffer'], Buffer.from('buffer')],
  ],
  bson: [
    [['bson', 'regexp'], /x/imsu],
    [['bson', '-0'], -0],
    [['bson', 'arraybuffer'], new Uint8Array([1]).buffer],
  ],
  msgpackr: [[['msgpackr', 'bigint'], [2n ** 80n, -3n]]],
  'cbor-x': [
    [['cbor', 'map'], new Map<unknown, unknown>([[1, 'one']])],
    [['cbor', 'set'], new Set([1, 'a'])],
    [['cbor', '-0'], -0],
  ],
} satisfies Record<string, [KvKey, unknown][]>

const SERIALIZERS = { json: jsonSerializer, bson: bsonSerializer, msgpackr: msgpackrSerializer, 'cbor-x': cborXSerializer }

describe('export and import', () => {
  it('round-trip every value type V8 keeps, and an export of the import is the same bytes', async () => {
    const from = tempDbPath()
    const entries = [...common, ...extras.v8] as [KvKey, unknown][]
    await fill(from, entries)
    const db = await Valkeyrie.open(from)
    await db.set(['expiring'], 'soon', { expireIn: 3_600_000 })
    await db.close()
    const dump = ok(['export', from])
    expect(dump.trimEnd().split('\n')).toHaveLength(entries.length + 1)
    expect(dump).toMatch(/^\{"key":\["expiring"\],"value":"soon","expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}$/m)
    const to = tempDbPath()
    expect(ok(['import', to], dump)).toBe(`imported ${entries.length + 1} entries\n`)
    expect(await entriesOf(to)).toStrictEqual(await entriesOf(from))
    // Same keys, values and expiry: the dump is stable, diffable, and kept byte for byte.
    expect(ok(['export', to])).toBe(dump)
    expect(ok(['export', to, '["v8"]']).split('\n').length).toBe(extras.v8.length + 1)
  })

  for (const [name, serializer] of Object.entries(SERIALIZERS)) {
    it(`moves a database from V8 to ${name} and back, values unchanged`, async () => {
      const from = tempDbPath()
      const entries = [...common, ...extras[name as keyof typeof SERIALIZERS]] as [KvKey, unknown][]
      await fill(from, entries)
      const dump = ok(['export', from])
      const to = tempDbPath()
      ok(['import', to, '--serializer', name], dump)
      expect(JSON.parse(ok(['info', to, '--json']))).toMatchObject({ serializer: name, entries: entries.length })
      expect(await entriesOf(to, serializer)).toStrictEqual(await entriesOf(from))
      const back = tempDbPath()
      ok(['import', back], ok(['export', to]))
      expect(ok(['export', back])).toBe(dump)
    })
  }

  it('skips entries that have expired, and says so', () => {
    const lines = [
      '{"key":["old"],"value":1,"expiresAt":"2001-01-01T00:00:00.000Z"}',
      '{"key":["new"],"value":2,"expiresAt":"2099-01-01T00:00:00.000Z"}',
    ].join('\n')
    const to = tempDbPath()
    expect(ok(['import', to], lines)).toBe('imported 1 entry (skipped 1 expired)\n')
    expect(ok(['export', to])).toBe(`${lines.split('\n')[1]}\n`)
  })

  const badInputs: [string, string, RegExp][] = [
    ['a line that is not JSON', '{"key":["a"],"value":1}\n{"key":["b"],\n', /^valkeyrie: line 2: not JSON/],
    ['an unknown property', '{"key":["a"],"value":1,"versionstamp":"x"}\n', /^valkeyrie: line 1: unknown property "versionstamp"/],
    ['a missing value', '{"key":["a"],"value":1}\n\n{"key":["b"]}\n', /^valkeyrie: line 3: a line needs a value/],
    ['a bad expiresAt', '{"key":["a"],"value":1,"expiresAt":"tomorrow"}\n', /^valkeyrie: line 1: expiresAt must be an ISO 8601 UTC time/],
    ['a value the serializer refuses', '{"key":["a"],"value":1}\n{"key":["b"],"value":{"$$":"Map","v":[]}}\n', /^valkeyrie: line 2: the bson serializer cannot store a Map/],
    ['a key too large', `{"key":["a"],"value":1}\n{"key":["${'k'.repeat(3000)}"],"value":1}\n`, /^valkeyrie: line 2: Key too large for write/],
  ]
  for (const [what, input, message] of badInputs) {
    it(`bad input, ${what}: nothing is written, a new database is not created`, async () => {
      const existing = tempDbPath()
      await fill(existing, [[['kept'], 1]], bsonSerializer)
      const before = readFileSync(existing)
      const result = cli.run(['import', existing], { input })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(readFileSync(existing).equals(before)).toBe(true)
      expect(await entriesOf(existing, bsonSerializer)).toEqual([{ key: ['kept'], value: 1 }])
      const fresh = tempDbPath()
      expect(cli.run(['import', fresh, '--serializer', 'bson'], { input }).code).toBe(2)
      expect(existsSync(fresh)).toBe(false)
    })
  }
})

describe('import --from-deno-kv', () => {
  it('imports a Deno KV file made by @deno/kv with identical keys and values, and leaves it untouched', async () => {
    const denoPath = tempDbPath('deno.sqlite')
    const kv = await openKv(denoPath)
    const values: [KvKey, unknown][] = [
      [['users', 'ada'], { name: 'Ada', born: new Date('1815-12-10T00:00:00.000Z'), langs: new Set(['en', 'fr']) }],
      [['users', 'alan'], { name: 'Alan', scores: new Map([['chess', 3]]), big: 2n ** 65n }],
      [['bytes'], new Uint8Array([0, 1, 2, 255])],
      [['string'], 'plain'],
      [['numbers'], [1.5, -0, NaN, Infinity]],
      [['nested'], { a: [{ b: null, c: undefined, d: true }] }],
      [['regexp'], /deno+/gi],
      [[1n, 2, true, new Uint8Array([7, 0])], 'every key part type'],
    ]
    for (const [key, value] of values) await kv.set(key as Parameters<typeof kv.set>[0], value)
    await kv.set(['counter'], new DenoKvU64(42n))
    await kv.atomic().sum(['visits'], 5n).commit()
    await kv.set(['expiring'], 'later', { expireIn: 3_600_000 })
    kv.close()
    const hash = createHash('sha256').update(readFileSync(denoPath)).digest('hex')

    const to = tempDbPath()
    expect(ok(['import', to, '--from-deno-kv', denoPath])).toBe(`imported ${values.length + 3} entries\n`)
    const expected = [...values, [['counter'], new KvU64(42n)], [['visits'], new KvU64(5n)], [['expiring'], 'later']] as [KvKey, unknown][]
    const db = await Valkeyrie.open(to)
    for (const [key, value] of expected) expect((await db.get(key)).value, JSON.stringify(key, (_, v) => String(v))).toStrictEqual(value)
    expect((await db.info()).entries).toBe(expected.length)
    await db.close()
    expect(ok(['export', to])).toMatch(/^\{"key":\["expiring"\],"value":"later","expiresAt":"/m)
    expect(createHash('sha256').update(readFileSync(denoPath)).digest('hex')).toBe(hash)
  })

  it('refuses a file that is not a Deno KV database, and a missing one', async () => {
    const notDeno = tempDbPath()
    await fill(notDeno, [[['a'], 1]])
    const to = tempDbPath()
    const result = cli.run(['import', to, '--from-deno-kv', notDeno])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/it is not a Deno KV database/)
    expect(cli.run(['import', to, '--from-deno-kv', tempDbPath('none.sqlite')]).stderr).toMatch(/none\.sqlite: it does not exist/)
    expect(existsSync(to)).toBe(false)
  })
})
