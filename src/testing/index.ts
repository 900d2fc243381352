/** `valkeyrie/testing`: the driver contract suite for driver authors. */
export { driverContract, type DriverContractOptions } from './driver-contract.js'
