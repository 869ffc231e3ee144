// Entry on the device (composition root). Must not export: `module` is undefined at Espruino's top level.
// Runs when .bootcde is loaded (after upload and at every power-up); E.on("init") covers a save()d image.
import { startApp } from "./app/app";
import { createEspruinoHal } from "./hal/espruino";
import { MqttClient } from "./mqtt/client";

let running = false;

const boot = () => {
  if (running) return;
  running = true;
  const hal = createEspruinoHal();
  startApp(hal, (target, options, events) => new MqttClient(target, options, events, hal.sockets_, hal.clock_, hal.random_, hal.time_));
};

// save() and reset() run "kill" first: the image they leave must boot again on "init"
E.on("kill", () => { running = false; });
E.on("init", boot);
boot();
