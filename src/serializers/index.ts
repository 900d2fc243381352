/** `valkeyrie/serializers`: the serializer contract and the built-in serializers that need no extra package. */
export { defineSerializer, type Serializer, type SerializedStruct } from './serializer.js'
export { v8Serializer } from './v8.js'
export { jsonSerializer } from './json.js'
