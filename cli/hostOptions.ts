// Options shared by the host commands (watch, dashboard, send), resolved over the user's config file, and the
// keyring they verify and sign with.
import fs from "node:fs";
import path from "node:path";
import { validateTopicRoot } from "../firmware/contract";
import type { BrokerSettings } from "../host/mqtt/connectBroker";
import { brokerUrlProblem } from "../provisioning/brokerUrl";
import { Keyring, KeyringError, keyringPathFor } from "../provisioning/keyring";
import { OptionSpecs, Parsed, UsageError } from "./args";
import { configPath, defaultDataDir, loadOrCreateUserConfig, UserConfig } from "./userConfig";

export const HOST_OPTIONS: OptionSpecs = {
  broker: { type: "string", value: "URL", help: "broker URL: mqtt://, mqtts://, ws:// or wss:// (default: from your config)" },
  "topic-root": { type: "string", value: "ROOT", help: "topic root, e.g. espdht/<home> (default: from your config)" },
  username: { type: "string", value: "NAME", help: "broker username" },
  password: { type: "string", value: "SECRET", help: "broker password (visible to other users in 'ps': prefer --password-file or ESPDHT_BROKER_PASSWORD)" },
  "password-file": { type: "string", value: "FILE", help: "read the broker password from FILE (first line); ESPDHT_BROKER_PASSWORD works too" },
  ca: { type: "string", value: "FILE", help: "CA certificate (PEM) for TLS brokers" },
  data: { type: "string", value: "DIR", help: "data folder (history store, dashboard session id)" },
  keyring: { type: "string", value: "FILE", help: "device keys to verify readings and sign commands with (default: keys.json next to your config)" },
};

/** The keyring of --keyring FILE (default: keys.json beside the config); a broken file is a UsageError naming it. */
export function openKeyring(values: Parsed["values"], configFile = configPath()): Keyring {
  const file = path.resolve(str(values, "keyring") ?? keyringPathFor(configFile));
  try {
    return new Keyring(file);
  } catch (e) {
    if (e instanceof KeyringError) throw new UsageError(`keyring: ${e.message}`);
    throw e;
  }
}

/** The environment variable every connecting command reads the broker password from. */
export const PASSWORD_ENV = "ESPDHT_BROKER_PASSWORD";

/** Warns on stderr when a secret was typed on the command line, where `ps` shows it to every user. */
export function warnSecretsOnArgv(values: Parsed["values"], command: string): void {
  const warn = (what: string) => process.stderr.write(`espdht ${command}: warning: ${what} is visible to other users in the process list ('ps'); use --password-file FILE or ${PASSWORD_ENV}\n`);
  if (typeof values.password === "string") warn("--password");
  if (typeof values.broker === "string" && /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(values.broker)) warn("the password in --broker's URL");
}

/**
 * The broker password from, in this order: --password (warned about), --password-file FILE (its first line),
 * ESPDHT_BROKER_PASSWORD, else `fallback` (the config's). A missing or empty file is a UsageError naming it.
 */
export function passwordFrom(values: Parsed["values"], fallback: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (typeof values.password === "string") return values.password || null;
  const file = values["password-file"];
  if (typeof file === "string") {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new UsageError(`--password-file: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const line = text.split(/\r?\n/)[0];
    if (!line) throw new UsageError(`--password-file: ${file} is empty (the password is its first line)`);
    return line;
  }
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return fallback;
}

export interface HostSettings {
  broker: BrokerSettings;
  root: string;
  dataDir: string;
  config: UserConfig;
  configFile: string;
  keyring: Keyring;
}

function str(values: Parsed["values"], name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** Flags win over the config file; the config file is created with a random home on first use. */
export function resolveHostOptions(values: Parsed["values"], log?: (m: string) => void): HostSettings {
  const configFile = configPath();
  const config = loadOrCreateUserConfig(configFile, log);
  const url = str(values, "broker") ?? config.broker;
  // the subcommand's name, for the warning's prefix
  warnSecretsOnArgv(values, process.argv[2] ?? "");
  const urlErr = brokerUrlProblem(url, "host");
  if (urlErr) throw new UsageError(`--broker: ${urlErr}`);
  const root = str(values, "topic-root") ?? config.root;
  const rootErr = validateTopicRoot(root);
  if (rootErr) throw new UsageError(`--topic-root: ${rootErr}`);
  const caFile = str(values, "ca") ?? config.ca;
  let ca: Buffer | null = null;
  if (caFile) {
    try {
      ca = fs.readFileSync(caFile);
    } catch (e) {
      throw new UsageError(`--ca: cannot read ${caFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!ca.toString("latin1").includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`--ca: ${caFile} is not a PEM certificate`);
  }
  const dataDir = path.resolve(str(values, "data") ?? defaultDataDir());
  const keyring = openKeyring(values, configFile);
  return {
    broker: { url, username: str(values, "username") ?? config.username, password: passwordFrom(values, config.password), ca },
    root,
    dataDir,
    config,
    configFile,
    keyring,
  };
}
