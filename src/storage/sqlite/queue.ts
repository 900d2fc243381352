/**
 * The queue of the SQLite storage: messages are rows of the queue table in the same file. Enqueues are inserted
 * by the commit's own write transaction; a claim is one `BEGIN IMMEDIATE` transaction (it takes the file's write
 * lock before reading, so no two processes lease one message); extend, ack and retry are single statements, each
 * acting only on rows still leased under the caller's token.
 */
import type Database from 'better-sqlite3'
import { keysFromText, keysToText, scheduleFromText, scheduleToText } from '../../queue/message.js'
import type { ClaimedMessage, QueueMessage, QueueStore } from '../store.js'

/** A quoted identifier. */
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`

interface QueueRow {
  id: number
  value: Buffer
  encoding: number
  ready_at: number
  lease_token: string | null
  attempts: number
  keys_if_undelivered: string
  backoff_schedule: string
}

/** The queue of one connection, and the insert its write transactions call. */
export function createSqliteQueue(client: Database.Database, table: string): { queue: QueueStore; insert: (message: QueueMessage) => void } {
  const t = ident(table)
  const insert = client.prepare(
    `INSERT INTO ${t} (value, encoding, ready_at, lease_token, attempts, keys_if_undelivered, backoff_schedule) VALUES (?, ?, ?, NULL, 0, ?, ?)`,
  )
  const due = client.prepare(
    `SELECT id, value, encoding, ready_at, lease_token, attempts, keys_if_undelivered, backoff_schedule FROM ${t} ` +
      'WHERE ready_at <= ? ORDER BY ready_at, id LIMIT ?',
  )
  const lease = client.prepare(`UPDATE ${t} SET lease_token = ?, ready_at = ?, attempts = attempts + 1 WHERE id = ?`)
  const extend = client.prepare(`UPDATE ${t} SET ready_at = ? WHERE id = ? AND lease_token = ?`)
  const ack = client.prepare(`DELETE FROM ${t} WHERE id = ? AND lease_token = ?`)
  const retry = client.prepare(`UPDATE ${t} SET ready_at = ?, lease_token = NULL, backoff_schedule = ? WHERE id = ? AND lease_token = ?`)
  const nextDue = client.prepare(`SELECT min(ready_at) AS due FROM ${t}`)

  const claim = client.transaction((now: number, limit: number, token: string, until: number): ClaimedMessage[] => {
    const rows = due.all(now, limit) as QueueRow[]
    return rows.map((row) => {
      lease.run(token, until, row.id)
      return {
        id: String(row.id),
        value: row.value,
        encoding: row.encoding,
        readyAt: row.ready_at,
        keysIfUndelivered: keysFromText(row.keys_if_undelivered),
        backoffSchedule: scheduleFromText(row.backoff_schedule),
        attempts: row.attempts + 1,
        expired: row.lease_token !== null,
      }
    })
  })
  const extendAll = client.transaction((ids: readonly string[], token: string, until: number) => {
    for (const id of ids) extend.run(until, Number(id), token)
  })
  const ackAll = client.transaction((ids: readonly string[], token: string) => {
    for (const id of ids) ack.run(Number(id), token)
  })

  return {
    insert: (m) => {
      insert.run(m.value, m.encoding, m.readyAt, keysToText(m.keysIfUndelivered), scheduleToText(m.backoffSchedule))
    },
    queue: {
      claim: (now, limit, token, until) => claim.immediate(now, limit, token, until),
      extend: (ids, token, until) => {
        if (ids.length > 0) extendAll.immediate(ids, token, until)
      },
      ack: (ids, token) => {
        if (ids.length > 0) ackAll.immediate(ids, token)
      },
      retry: (id, token, readyAt, schedule) => {
        retry.run(readyAt, scheduleToText(schedule), Number(id), token)
      },
      nextDue: () => {
        const found = nextDue.get() as { due: number | null } | undefined
        return found?.due ?? null
      },
    },
  }
}
