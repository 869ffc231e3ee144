// Espruino's event emitter: `on`/`emit`/`removeListener`. Unlike Node, emit is asynchronous: handlers run
// after the current code, from the interpreter's event queue (at most 4 arguments reach them).
import type { Interpreter } from "./interpreter";

type Listener = (...args: unknown[]) => unknown;

export class EspruinoEmitter {
  // no prototype: an event named "constructor" or "__proto__" is just a name
  private listeners: Record<string, Listener[]> = Object.create(null);

  constructor(protected readonly rt: Interpreter) {}

  on(event: string, fn: Listener): this {
    if (typeof fn !== "function") throw new Error(`on("${event}", ...): the handler must be a function`);
    (this.listeners[event] ||= []).push(fn);
    return this;
  }

  addListener(event: string, fn: Listener): this {
    return this.on(event, fn);
  }

  prependListener(event: string, fn: Listener): this {
    if (typeof fn !== "function") throw new Error(`prependListener("${event}", ...): the handler must be a function`);
    (this.listeners[event] ||= []).unshift(fn);
    return this;
  }

  removeListener(event: string, fn: Listener): this {
    const list = this.listeners[event];
    if (list) {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.listeners = Object.create(null);
    else delete this.listeners[event];
    return this;
  }

  /** Firmware-visible emit: queued, like Espruino. */
  emit(event: string, ...args: unknown[]): boolean {
    this.fire(event, args.slice(0, 4));
    return true;
  }

  /** Hardware-side event: queued; listeners are looked up when the event runs. */
  fire(event: string, args: unknown[] = []): void {
    this.rt.queue(() => {
      const list = this.listeners[event];
      if (!list) return;
      const snapshot = list.slice();
      for (let i = 0; i < snapshot.length; i++) this.rt.call(snapshot[i], this.publicFace(), args);
    });
  }

  /** Runs the handlers now (Espruino's "kill" runs synchronously before a reset). */
  fireNow(event: string, args: unknown[] = []): void {
    const list = this.listeners[event];
    if (!list) return;
    const snapshot = list.slice();
    for (let i = 0; i < snapshot.length; i++) this.rt.call(snapshot[i], this.publicFace(), args);
  }

  hasListeners(event: string): boolean {
    return !!this.listeners[event] && this.listeners[event].length > 0;
  }

  /** what `this` is inside handlers (the strict proxy the firmware holds) */
  protected publicFace(): unknown {
    return this.face ?? this;
  }

  /** set by the owner once wrapped in a strict proxy */
  face: unknown = undefined;
}
