/**
 * The `tables` option of a database the application owns: the kv tables it declared in its Drizzle schema with
 * `createKvTables()` (so their names are written once), or their names.
 */
import { getTableColumns, is } from 'drizzle-orm'
import { getTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { describeValue } from '../../errors.js'
import { createKvTables, DEFAULT_TABLE_NAMES, type KvTableNames, type KvTables } from './schema.js'

/** The kv tables from `createKvTables()`, or their names; an omitted one keeps its default name. */
export interface KvTablesOption {
  /** The entries table (default `kv`). */
  kv?: KvTables['kv'] | string
  /** The metadata table (default `kv_meta`). */
  meta?: KvTables['meta'] | string
  /** The queue table (default: the entries table's name with `_queue`). */
  queue?: KvTables['queue'] | string
}

type Role = keyof KvTableNames
const ROLES: readonly Role[] = ['kv', 'meta', 'queue']

/** The table names the option gives. Throws `TypeError` for anything but names or the tables of their role. */
export function tableNamesOf(option: unknown): KvTableNames {
  if (option === undefined) return DEFAULT_TABLE_NAMES
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new TypeError(`tables must be an object: received ${describeValue(option)}`)
  }
  const names: KvTableNames = { kv: DEFAULT_TABLE_NAMES.kv, meta: DEFAULT_TABLE_NAMES.meta }
  for (const [role, value] of Object.entries(option)) {
    if (!ROLES.includes(role as Role)) throw new TypeError(`tables takes kv, meta and queue: received ${JSON.stringify(role)}`)
    if (value === undefined) continue
    names[role as Role] = nameOf(role as Role, value)
  }
  return names
}

function nameOf(role: Role, value: unknown): string {
  const wanted = `tables.${role} must be the ${role} table from createKvTables() or its name`
  if (typeof value === 'string') {
    if (value === '') throw new TypeError(`${wanted}: received ""`)
    return value
  }
  if (!is(value, SQLiteTable)) throw new TypeError(`${wanted}: received ${describeValue(value)}`)
  const name = getTableConfig(value).name
  // Ours when it has exactly the columns and indexes createKvTables() gives that role under that name.
  const built = createKvTables({ kv: name, meta: name, queue: name })
  if (shapeOf(value) === shapeOf(built[role])) return name
  for (const other of ROLES) {
    if (other !== role && shapeOf(value) === shapeOf(built[other])) throw new TypeError(`${wanted}: received the ${other} table ${name}`)
  }
  throw new TypeError(`${wanted}: received table ${name}, whose columns or indexes differ`)
}

/** Every column (property, SQL name, type, constraints) and index of a table, as one comparable string. */
function shapeOf(table: SQLiteTable): string {
  const columns = Object.entries(getTableColumns(table)).map(
    ([property, c]) => `${property}=${c.name}:${c.columnType}:${c.notNull}:${c.primary}:${c.hasDefault}`,
  )
  const indexes = getTableConfig(table).indexes.map(
    ({ config }) => `${config.name}(${config.columns.map((c) => ('name' in c ? c.name : '?')).join(',')}):${config.unique}`,
  )
  return [...columns, ...indexes].join(';')
}
