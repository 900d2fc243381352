/** A collection's schema: any Standard Schema v1 (zod, valibot, arktype, ...), validated on write and on read. */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describeValue, ValidationError } from '../errors.js'
import type { KvKey } from '../types.js'

/** What a collection's `set` takes: the schema's input type. */
export type SchemaInput<TSchema extends StandardSchemaV1> = StandardSchemaV1.InferInput<TSchema>
/** What a collection stores and reads: the schema's output type. */
export type SchemaOutput<TSchema extends StandardSchemaV1> = StandardSchemaV1.InferOutput<TSchema>

/** Throws `TypeError` unless `schema` implements Standard Schema v1. */
export function assertSchema(schema: unknown): asserts schema is StandardSchemaV1 {
  const props = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null | undefined)?.[
    '~standard'
  ]
  if (
    (typeof schema !== 'object' && typeof schema !== 'function') ||
    props?.version !== 1 ||
    typeof props.validate !== 'function'
  ) {
    throw new TypeError(`schema must implement Standard Schema v1 (such as a zod schema): received ${describeValue(schema)}`)
  }
}

/** The schema's output for `value`, stored at `key`; rejects with `ValidationError` carrying the schema's issues. */
export async function parseValue<TSchema extends StandardSchemaV1>(
  schema: TSchema,
  key: KvKey,
  value: unknown,
): Promise<SchemaOutput<TSchema>> {
  const result = await schema['~standard'].validate(value)
  if (result.issues) throw new ValidationError(key, result.issues)
  return result.value as SchemaOutput<TSchema>
}
