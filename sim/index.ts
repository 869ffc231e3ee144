// The simulator's public API (used by `espdht sim`, `npm start` and end-to-end tests).
export { startFleet, fleetDeviceConfig, FleetError, VIRTUAL_WIFI } from "./fleet/fleet";
export type { Fleet, FleetOptions, FleetStats } from "./fleet/fleet";
export { startStatusLine, statusText } from "./fleet/statusLine";
export { simDeviceId } from "./fleet/deviceId";
export { VirtualBoard } from "./board/board";
export type { BoardSpec, BoardWorld } from "./board/board";
export { VirtualFlash } from "./board/storage";
export { NotEmulatedError } from "./board/notEmulated";
export { startSerialConsole } from "./console/serialConsole";
export type { SerialConsole } from "./console/serialConsole";
export { VirtualDht } from "./dht/virtualDht";
export { createEnvironment, DEFAULT_ENVIRONMENT } from "./dht/environment";
export { readCsvSeries, parseCsvSeries } from "./dht/csvReplay";
export { FAULT_NAMES } from "./faults/faults";
export type { FaultEvent, FaultName } from "./faults/faults";
export { parseScenario, readScenario, ScenarioError } from "./faults/scenario";
