/**
 * `valkeyrie/serializers`: the serializer contract and the built-in serializers that need no extra package.
 * The others load their package only when imported: `valkeyrie/serializers/bson` (needs `bson`),
 * `valkeyrie/serializers/msgpackr` (needs `msgpackr`) and `valkeyrie/serializers/cbor-x` (needs `cbor-x`).
 */
export { defineSerializer, type Serializer, type SerializedStruct } from './serializer.js'
export { v8Serializer } from './v8.js'
export { jsonSerializer } from './json.js'
