/**
 * Keys and values written on the command line: JSON, with the tags of tagged-json.ts for what JSON lacks. A key
 * is a JSON array (`'["users", "ada"]'`, `'["n", {"$$":"bigint","v":"5"}]'`); a value is any JSON
 * (`'"a string"'`, `'{"name":"Ada"}'`, `'{"$$":"KvU64","v":"5"}'`). A mistake is a `UsageError` that says
 * what was expected.
 */
import type { KvKey } from '../types.js'
import { UsageError } from './args.js'
import { jsonToKey, jsonToValue } from './tagged-json.js'

function parseJson(text: string, what: string, example: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`${what} must be JSON, such as ${example}: received ${shorten(text)}`)
  }
}

const shorten = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)

/** A key argument (`what` names it in messages: `key`, `prefix`, `--start`). An empty array only if `allowEmpty`. */
export function parseKeyArgument(text: string, what = 'key', allowEmpty = false): KvKey {
  const json = parseJson(text, what, `'["users", "ada"]'`)
  try {
    const key = jsonToKey(json, what)
    if (key.length === 0 && !allowEmpty) throw new TypeError(`${what} must have at least one part`)
    return key
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** A value argument. */
export function parseValueArgument(text: string): unknown {
  const json = parseJson(text, 'value', `'"a string"', '42' or '{"name":"Ada"}'`)
  try {
    return jsonToValue(json)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
