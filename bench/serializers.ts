/**
 * Serializer comparison: encoded size and encode/decode speed of the built-in serializers for one representative
 * value (a user profile that every serializer keeps unchanged), printed as a Markdown table.
 *
 *   npm run bench:serializers              (about 1 s per measurement)
 *   npm run bench:serializers -- --time 200
 *
 * A second table times each library alone on the same value, with none of Valkeyrie's checks, to show what the
 * checks cost. (JSON alone turns the Date into a string and the Uint8Array into an object, so it does less.)
 */
import { cpus } from 'node:os'
import { deserialize as v8Deserialize, serialize as v8Serialize } from 'node:v8'
import * as bson from 'bson'
import { Encoder } from 'cbor-x'
import { Packr } from 'msgpackr'
import { jsonSerializer, type Serializer, v8Serializer } from '../src/index.js'
import { bsonSerializer } from '../src/serializers/bson.js'
import { cborXSerializer } from '../src/serializers/cbor-x.js'
import { msgpackrSerializer } from '../src/serializers/msgpackr.js'

const timeArg = process.argv.indexOf('--time')
const SAMPLE_MS = timeArg === -1 ? 1000 : Number(process.argv[timeArg + 1] ?? 1000)
const SAMPLES = 5

/** The representative value: the shape of a typical stored document. */
const VALUE = {
  id: 'user_8c1f2a',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  age: 36,
  score: 98.25,
  active: true,
  manager: null,
  joined: new Date('2024-03-01T09:30:00Z'),
  tags: ['math', 'engines', 'poetry', 'analysis'],
  address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'UK' },
  orders: [
    { sku: 'AE-001', quantity: 2, price: 19.99 },
    { sku: 'AE-002', quantity: 1, price: 249 },
    { sku: 'AE-003', quantity: 5, price: 3.5 },
  ],
  avatar: new Uint8Array(64).map((_, i) => (i * 37) % 256),
}

/** How many calls of `fn` take about a tenth of a sample, after warming it up. */
function batchSize(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn()
  let batch = 100
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) fn()
    if (Number(process.hrtime.bigint() - start) > (SAMPLE_MS * 1e6) / 10) return batch
    batch *= 2
  }
}

/** Nanoseconds per call of `fn` over one sample of about SAMPLE_MS. */
function sample(fn: () => unknown, batch: number): number {
  let calls = 0
  let elapsed = 0
  const start = process.hrtime.bigint()
  while (elapsed < SAMPLE_MS * 1e6) {
    for (let i = 0; i < batch; i++) fn()
    calls += batch
    elapsed = Number(process.hrtime.bigint() - start)
  }
  return elapsed / calls
}

interface Candidate {
  name: string
  bytes: number
  encode: () => unknown
  decode: () => unknown
}

interface Row {
  name: string
  bytes: number
  encodeNs: number
  decodeNs: number
}

function candidate(name: string, encode: (value: unknown) => Uint8Array, decode: (bytes: Uint8Array) => unknown): Candidate {
  const bytes = encode(VALUE)
  return { name, bytes: bytes.length, encode: () => encode(VALUE), decode: () => decode(bytes) }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number

/**
 * Median ns per call for each candidate. Samples are taken round-robin (one of each candidate per round), so a
 * slow moment of the machine lands on all of them rather than on one.
 */
function measureAll(candidates: Candidate[]): Row[] {
  const fns = candidates.flatMap((c) => [c.encode, c.decode])
  const batches = fns.map(batchSize)
  const samples: number[][] = fns.map(() => [])
  for (let round = 0; round < SAMPLES; round++) {
    fns.forEach((fn, i) => samples[i]?.push(sample(fn, batches[i] as number)))
  }
  return candidates.map((c, i) => ({
    name: c.name,
    bytes: c.bytes,
    encodeNs: median(samples[2 * i] as number[]),
    decodeNs: median(samples[2 * i + 1] as number[]),
  }))
}

const us = (ns: number) => (ns / 1000).toFixed(2)
const opsPerSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString('en-US')

function table(rows: Row[], withSize: boolean): string {
  const head = withSize
    ? '| serializer | encoded size (bytes) | encode (µs) | decode (µs) | encode + decode (ops/s) |\n| --- | ---: | ---: | ---: | ---: |'
    : '| library alone | encoded size (bytes) | encode (µs) | decode (µs) | encode + decode (ops/s) |\n| --- | ---: | ---: | ---: | ---: |'
  const lines = rows.map(
    (r) => `| ${r.name} | ${r.bytes} | ${us(r.encodeNs)} | ${us(r.decodeNs)} | ${opsPerSecond(r.encodeNs + r.decodeNs)} |`,
  )
  return [head, ...lines].join('\n')
}

const serializers: Serializer[] = [v8Serializer, jsonSerializer, bsonSerializer, msgpackrSerializer, cborXSerializer]
for (const serializer of serializers) {
  const back = serializer.deserialize(serializer.serialize(VALUE))
  if (JSON.stringify(back) !== JSON.stringify(VALUE)) throw new Error(`${serializer.name} did not keep the value`)
}

const packr = new Packr({ useRecords: false, moreTypes: true })
const cbor = new Encoder({ useRecords: false, variableMapSize: true })
const rows = measureAll([
  ...serializers.map((s) => candidate(s.name ?? 'custom', (v) => s.serialize(v), (b) => s.deserialize(b))),
  candidate('node:v8', (v) => v8Serialize(v), (b) => v8Deserialize(b)),
  candidate('JSON.stringify / parse', (v) => Buffer.from(JSON.stringify(v)), (b) => JSON.parse(Buffer.from(b).toString())),
  candidate('bson', (v) => bson.serialize({ v }), (b) => bson.deserialize(b)),
  candidate('msgpackr', (v) => packr.pack(v), (b) => packr.unpack(b)),
  candidate('cbor-x', (v) => cbor.encode(v), (b) => cbor.decode(b)),
])
const ours = rows.slice(0, serializers.length)
const alone = rows.slice(serializers.length)

console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; median of ${SAMPLES} samples of ${SAMPLE_MS} ms\n`)
console.log(table(ours, true))
console.log()
console.log(table(alone, false))
