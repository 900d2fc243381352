/**
 * The queue of a custom driver (`defineDriver`, the memory driver): each message is one entry under a reserved key
 * (FF, no encoded key's first byte, so no `list` of the database reaches it), `QUEUE_PREFIX` then the commit
 * counter and the message's place in its commit, so key order is enqueue order. The entry's value holds the
 * message's state as JSON. A claim lists every message (a driver has no index on ready time): fine for the modest
 * queues a custom driver serves. Every operation runs inside the driver's `withTransaction`, one at a time per
 * database; across processes the driver's transactions decide.
 */
import { keysFromText, keysToText } from '../queue/message.js'
import { toVersionstamp } from '../versionstamp.js'
import { asBuffer, type DriverEntry, type KvDriver } from './driver.js'
import type { ClaimedMessage, QueueMessage, QueueStore } from './store.js'

/** The first bytes of every message key. */
export const QUEUE_PREFIX = Buffer.from('\xffqueue\x00', 'latin1')
const QUEUE_END = Buffer.from('\xffqueue\x01', 'latin1')
/** Entries per `list` call while reading the queue. */
const PAGE = 1000

/** A message entry's value. */
interface StoredMessage {
  value: string
  encoding: number
  readyAt: number
  token: string | null
  attempts: number
  keys: string
  backoff: number[]
}

/** The key of message `index` of the commit with counter `version`. */
export function messageKey(version: number, index: number): Buffer {
  const key = Buffer.alloc(QUEUE_PREFIX.length + 12)
  QUEUE_PREFIX.copy(key)
  key.writeBigUInt64BE(BigInt(version), QUEUE_PREFIX.length)
  key.writeUInt32BE(index, QUEUE_PREFIX.length + 8)
  return key
}

const encode = (m: StoredMessage): Buffer => Buffer.from(JSON.stringify(m), 'utf8')
const decode = (entry: DriverEntry): StoredMessage => JSON.parse(Buffer.from(entry.value).toString('utf8')) as StoredMessage

/** A new message's entry value. */
export const messageValue = (m: QueueMessage): Buffer =>
  encode({
    value: m.value.toString('base64'),
    encoding: m.encoding,
    readyAt: m.readyAt,
    token: null,
    attempts: 0,
    keys: keysToText(m.keysIfUndelivered),
    backoff: m.backoffSchedule,
  })

/** How the queue reaches the driver: `run` runs a function alone, inside the driver's transaction. */
export interface DriverQueueAccess {
  driver: KvDriver
  run<T>(fn: () => Promise<T>): Promise<T>
}

export function createDriverQueue({ driver, run }: DriverQueueAccess): QueueStore {
  const versionstamp = toVersionstamp(0)
  const all = async (): Promise<{ key: Buffer; message: StoredMessage }[]> => {
    const found: { key: Buffer; message: StoredMessage }[] = []
    let start: Buffer = QUEUE_PREFIX
    for (;;) {
      const page = await driver.list(start, QUEUE_END, QUEUE_PREFIX, 0, PAGE, false)
      for (const entry of page) found.push({ key: asBuffer(entry.key), message: decode(entry) })
      const last = page.at(-1)
      if (page.length < PAGE || last === undefined) return found
      start = Buffer.concat([asBuffer(last.key), Buffer.of(0)])
    }
  }
  const held = async (id: string, token: string): Promise<{ key: Buffer; message: StoredMessage } | undefined> => {
    const key = Buffer.from(id, 'hex')
    const entry = await driver.get(key, 0)
    if (!entry) return undefined
    const message = decode(entry)
    return message.token === token ? { key, message } : undefined
  }
  const put = (key: Buffer, message: StoredMessage) => driver.set(key, encode(message), versionstamp, null)
  return {
    claim: (now, limit, token, until) =>
      run(async () => {
        const due = (await all()).filter(({ message }) => message.readyAt <= now)
        due.sort((a, b) => a.message.readyAt - b.message.readyAt || Buffer.compare(a.key, b.key))
        const claimed: ClaimedMessage[] = []
        for (const { key, message } of due.slice(0, limit)) {
          const expired = message.token !== null
          const leased = { ...message, token, readyAt: until, attempts: message.attempts + 1 }
          await put(key, leased)
          claimed.push({
            id: key.toString('hex'),
            value: Buffer.from(message.value, 'base64'),
            encoding: message.encoding,
            readyAt: message.readyAt,
            keysIfUndelivered: keysFromText(message.keys),
            backoffSchedule: message.backoff,
            attempts: leased.attempts,
            expired,
          })
        }
        return claimed
      }),
    extend: (ids, token, until) =>
      run(async () => {
        for (const id of ids) {
          const found = await held(id, token)
          if (found) await put(found.key, { ...found.message, readyAt: until })
        }
      }),
    ack: (ids, token) =>
      run(async () => {
        for (const id of ids) {
          const found = await held(id, token)
          if (found) await driver.delete(found.key)
        }
      }),
    retry: (id, token, readyAt, backoff) =>
      run(async () => {
        const found = await held(id, token)
        if (found) await put(found.key, { ...found.message, readyAt, token: null, backoff: [...backoff] })
      }),
    nextDue: () =>
      run(async () => {
        let next: number | null = null
        for (const { message } of await all()) if (next === null || message.readyAt < next) next = message.readyAt
        return next
      }),
  }
}
