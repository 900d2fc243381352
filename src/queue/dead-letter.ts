/** The commit that writes a message's value to its `keysIfUndelivered` once every delivery has failed. */
import type { PreparedCommit, PreparedSet } from '../commit.js'
import type { QueueMessage } from '../storage/store.js'

/** Sets of the value (as stored, never expiring) at each key; undefined when the message has no such keys. */
export function deadLetterCommit(message: QueueMessage): PreparedCommit | undefined {
  if (message.keysIfUndelivered.length === 0) return undefined
  let bytes = 0
  const mutations = message.keysIfUndelivered.map((key): PreparedSet => {
    bytes += key.length + message.value.length
    return { type: 'set', key, value: message.value, encoding: message.encoding, version: 0, expiresAt: null }
  })
  return { checks: [], mutations, bytes }
}
