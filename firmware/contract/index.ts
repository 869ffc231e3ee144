// The device-host contract: the only firmware code the host imports.
export * from "./version";
export * from "./topics";
export * from "./payloads";
export * from "./deviceConfig";
export * from "./trust";
export * from "./output";
