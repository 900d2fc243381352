/**
 * Key bytes (SPEC §2): the FoundationDB tuple layer, the same bytes Deno KV writes. Parts are written one after
 * another with no separator, and byte order equals key order:
 *
 * | part | bytes |
 * | --- | --- |
 * | Uint8Array | `01`, the bytes with every `00` written `00 FF`, then `00` |
 * | string | `02`, its UTF-8 bytes escaped the same way, then `00` |
 * | bigint 0 | `14` |
 * | bigint > 0, magnitude in L ≤ 8 big-endian bytes | `14+L`, magnitude |
 * | bigint < 0, L ≤ 8 | `14-L`, one's complement of the magnitude |
 * | bigint > 0, 8 < L ≤ 255 | `1D`, L, magnitude |
 * | bigint < 0, 8 < L ≤ 255 | `0B`, L XOR FF, one's complement of the magnitude |
 * | number | `21`, the IEEE-754 big-endian double (NaN made canonical `7FF8…`), all 64 bits inverted when the sign bit is set, else only the sign bit flipped |
 * | false / true | `26` / `27` |
 */
import { isUtf8 } from 'node:buffer'
import { describeValue } from '../errors.js'
import { MAX_BIGINT_KEY_BYTES } from '../limits.js'
import type { KvKey, KvKeyPart } from '../types.js'

const BYTES = 0x01
const STRING = 0x02
const INT_ZERO = 0x14
const NEG_INT_LONG = 0x0b
const POS_INT_LONG = 0x1d
const DOUBLE = 0x21
const FALSE = 0x26
const TRUE = 0x27

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Growable output buffer; one per call so encoding is reentrant. */
class Writer {
  buf: Buffer
  pos = 0
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }
  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }
  /** Writes bytes with every 00 escaped as 00 FF, then the 00 terminator. */
  escaped(bytes: Uint8Array, from = 0, to = bytes.length): void {
    this.ensure((to - from) * 2 + 1)
    const buf = this.buf
    let pos = this.pos
    for (let i = from; i < to; i++) {
      const b = bytes[i] as number
      buf[pos++] = b
      if (b === 0) buf[pos++] = 0xff
    }
    buf[pos++] = 0
    this.pos = pos
  }
  string(s: string, index: number): void {
    // Fast path: ASCII without NUL is written as-is (the common case for keys).
    const n = s.length
    this.ensure(n + 2)
    const buf = this.buf
    let pos = this.pos
    buf[pos++] = STRING
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c === 0 || c > 0x7f) break
      buf[pos++] = c
    }
    if (i === n) {
      buf[pos++] = 0
      this.pos = pos
      return
    }
    this.pos = pos
    const tail = i === 0 ? s : s.slice(i)
    // UTF-8 cannot carry a lone surrogate: Buffer.from would write U+FFFD, so two different keys would collide and
    // the key read back would differ from the key written.
    if (LONE_SURROGATE.test(tail)) {
      throw new TypeError(
        `key part ${index} must be a well-formed string: received a string with a lone UTF-16 surrogate`,
      )
    }
    this.escaped(Buffer.from(tail, 'utf8'))
  }
}

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function writeNumber(w: Writer, n: number): void {
  w.ensure(9)
  w.buf[w.pos++] = DOUBLE
  f64[0] = Number.isNaN(n) ? NaN : n
  // Canonical NaN: 7FF8 0000 0000 0000 whatever NaN the platform produced.
  const bytes = Number.isNaN(n) ? CANONICAL_NAN : bigEndian(f64Bytes)
  const negative = (bytes[0] as number) & 0x80
  for (let i = 0; i < 8; i++) {
    const b = bytes[i] as number
    w.buf[w.pos++] = negative ? ~b & 0xff : i === 0 ? b ^ 0x80 : b
  }
}

const CANONICAL_NAN = Uint8Array.of(0x7f, 0xf8, 0, 0, 0, 0, 0, 0)
const scratch = new Uint8Array(8)
function bigEndian(bytes: Uint8Array): Uint8Array {
  if (!LITTLE_ENDIAN) return bytes
  for (let i = 0; i < 8; i++) scratch[i] = bytes[7 - i] as number
  return scratch
}

function writeBigInt(w: Writer, n: bigint, index: number): void {
  if (n === 0n) return w.byte(INT_ZERO)
  const negative = n < 0n
  const magnitude = negative ? -n : n
  let hex = magnitude.toString(16)
  if (hex.length % 2) hex = '0' + hex
  const length = hex.length / 2
  if (length > MAX_BIGINT_KEY_BYTES) {
    throw new RangeError(
      `key part ${index} is a bigint too large for a key (max ${MAX_BIGINT_KEY_BYTES} bytes): received ${length} bytes`,
    )
  }
  const bytes = Buffer.from(hex, 'hex')
  w.ensure(length + 2)
  if (length <= 8) {
    w.buf[w.pos++] = negative ? INT_ZERO - length : INT_ZERO + length
  } else {
    w.buf[w.pos++] = negative ? NEG_INT_LONG : POS_INT_LONG
    w.buf[w.pos++] = negative ? length ^ 0xff : length
  }
  for (let i = 0; i < length; i++) w.buf[w.pos++] = negative ? ~(bytes[i] as number) & 0xff : (bytes[i] as number)
}

function writePart(w: Writer, part: unknown, index: number): void {
  switch (typeof part) {
    case 'string':
      return w.string(part, index)
    case 'number':
      return writeNumber(w, part)
    case 'bigint':
      return writeBigInt(w, part, index)
    case 'boolean':
      return w.byte(part ? TRUE : FALSE)
    default:
      if (part instanceof Uint8Array) {
        w.byte(BYTES)
        return w.escaped(part)
      }
      throw new TypeError(
        `key part ${index} must be a string, number, bigint, boolean or Uint8Array: received ${describeValue(part)}`,
      )
  }
}

/** Checks that `key` is an array (non-empty unless `allowEmpty`, as for a list prefix). */
function assertKeyShape(key: unknown, allowEmpty: boolean, what: string): asserts key is KvKey {
  if (!Array.isArray(key)) throw new TypeError(`${what} must be an array of key parts: received ${describeValue(key)}`)
  if (key.length === 0 && !allowEmpty) throw new TypeError(`${what} must have at least one part`)
}

/**
 * Encodes a key so byte order equals key order: Uint8Array < string < bigint < number < false < true.
 * Throws `TypeError` for anything that is not a non-empty array of key parts.
 */
export function encodeKey(key: KvKey, options?: { allowEmpty?: boolean; what?: string }): Buffer {
  assertKeyShape(key, options?.allowEmpty ?? false, options?.what ?? 'key')
  const w = new Writer(64)
  for (let i = 0; i < key.length; i++) writePart(w, key[i], i)
  return w.buf.subarray(0, w.pos)
}

class Reader {
  pos = 0
  constructor(readonly bytes: Uint8Array) {}
  fail(why: string): never {
    throw new TypeError(`invalid encoded key: ${why} at byte ${this.pos}`)
  }
  next(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end')
    return this.bytes[this.pos++] as number
  }
  /** Reads escaped bytes up to the 00 terminator. */
  escaped(): Uint8Array {
    const bytes = this.bytes
    const out: number[] = []
    for (;;) {
      const b = this.next()
      if (b !== 0) {
        out.push(b)
        continue
      }
      if (this.pos < bytes.length && bytes[this.pos] === 0xff) {
        out.push(0)
        this.pos++
        continue
      }
      return Uint8Array.from(out)
    }
  }
  take(length: number, invert: boolean): Uint8Array {
    if (this.pos + length > this.bytes.length) this.fail('unexpected end')
    // A copy, never a view: `bytes` is often a Buffer, whose slice() shares memory, and inverting a view in place would
    // corrupt the caller's key bytes.
    const out = new Uint8Array(length)
    out.set(this.bytes.subarray(this.pos, this.pos + length))
    this.pos += length
    if (invert) for (let i = 0; i < out.length; i++) out[i] = ~(out[i] as number) & 0xff
    return out
  }
}

function toBigInt(magnitude: Uint8Array, negative: boolean): bigint {
  const n = magnitude.length === 0 ? 0n : BigInt('0x' + Buffer.from(magnitude).toString('hex'))
  return negative ? -n : n
}

function readPart(r: Reader): KvKeyPart {
  const tag = r.next()
  if (tag === BYTES) return r.escaped()
  if (tag === STRING) {
    const start = r.pos
    const bytes = r.escaped()
    if (!isUtf8(bytes)) {
      r.pos = start
      return r.fail('string part is not valid UTF-8')
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')
  }
  if (tag === INT_ZERO) return 0n
  if (tag > INT_ZERO && tag <= INT_ZERO + 8) return toBigInt(r.take(tag - INT_ZERO, false), false)
  if (tag < INT_ZERO && tag >= INT_ZERO - 8) return toBigInt(r.take(INT_ZERO - tag, true), true)
  if (tag === POS_INT_LONG) return toBigInt(r.take(r.next(), false), false)
  if (tag === NEG_INT_LONG) return toBigInt(r.take(r.next() ^ 0xff, true), true)
  if (tag === DOUBLE) {
    const bytes = r.take(8, false)
    const negative = !((bytes[0] as number) & 0x80)
    for (let i = 0; i < 8; i++) {
      const b = negative ? ~(bytes[i] as number) & 0xff : i === 0 ? (bytes[i] as number) ^ 0x80 : (bytes[i] as number)
      f64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b
    }
    return f64[0] as number
  }
  if (tag === FALSE) return false
  if (tag === TRUE) return true
  r.pos--
  return r.fail(`unknown type tag 0x${tag.toString(16).padStart(2, '0')}`)
}

/** Decodes bytes written by `encodeKey` back to the exact key. Throws `TypeError` on malformed bytes. */
export function decodeKey(bytes: Uint8Array): KvKeyPart[] {
  const r = new Reader(bytes)
  const key: KvKeyPart[] = []
  while (r.pos < bytes.length) key.push(readPart(r))
  return key
}
