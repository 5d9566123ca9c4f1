// One way to talk to a board's console, whatever carries it: a serial device
// (`/dev/ttyACM0`, through the `serialport` package) or a TCP console
// (`tcp://HOST:PORT`, Espruino's telnet console or the emulated board's).
// Bytes are passed as strings of one character per byte (latin1), as the
// Espruino tools do.
//
// Errors opening a port are PortErrors with a reason a script can act on:
// not-found (no such device / host), refused (nothing listens on that TCP
// port), busy (another program has the port), denied (permissions),
// timeout, io.

import net from "node:net";
import { existsSync, readdirSync } from "node:fs";

/**
 * A serialport binding (@serialport/bindings-interface): the platform's, or
 * serialport's MockBinding in tests. Only what this file relies on is typed.
 */
export interface SerialBinding {
  list(): Promise<unknown[]>;
  open(options: { path: string; baudRate: number } & Record<string, unknown>): Promise<unknown>;
}

export type PortSpec =
  | { kind: "tcp"; host: string; port: number; text: string }
  | { kind: "serial"; path: string; text: string };

export type PortErrorReason = "not-found" | "refused" | "busy" | "denied" | "timeout" | "io";

export class PortError extends Error {
  constructor(
    readonly reason: PortErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "PortError";
  }
}

/** "tcp://host:port" (port 23 when left out, as the upload tool does) or a serial device path. */
export function parsePort(text: string): PortSpec {
  const t = text.trim();
  if (t.toLowerCase().startsWith("tcp://")) {
    let rest = t.slice(6).replace(/\/+$/, "");
    let host = rest;
    let port = 23;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
    if (v6) {
      host = v6[1]!;
      if (v6[2]) port = Number(v6[2]);
    } else {
      const i = rest.lastIndexOf(":");
      if (i >= 0) {
        host = rest.slice(0, i);
        rest = rest.slice(i + 1);
        port = Number(rest);
      }
    }
    if (!host) host = "localhost";
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new PortError("not-found", `bad TCP port in "${text}" (expected tcp://HOST:PORT)`);
    return { kind: "tcp", host, port, text: `tcp://${host.includes(":") ? `[${host}]` : host}:${port}` };
  }
  if (!t) throw new PortError("not-found", "no port given (a serial device such as /dev/ttyACM0, or tcp://HOST:PORT)");
  return { kind: "serial", path: t, text: t };
}

/** Serial devices that look like boards on this machine (USB CDC and USB-serial adapters). */
export function likelySerialDevices(): string[] {
  const out: string[] = [];
  try {
    for (const n of readdirSync("/dev")) if (/^tty(ACM|USB)\d+$|^cu\.usb/.test(n)) out.push(`/dev/${n}`);
  } catch {
    // not a Unix /dev
  }
  if (existsSync("/dev/serial/by-id")) for (const n of readdirSync("/dev/serial/by-id")) out.push(`/dev/serial/by-id/${n}`);
  return out.sort();
}

export interface OpenOptions {
  /** Serial baud rate. Default 9600 (Espruino's default; USB ignores it). */
  baudRate?: number;
  /** serialport binding to use for serial devices; default the platform's. Tests pass serialport's MockBinding. */
  binding?: SerialBinding;
  /** Give up connecting after this long. Default 5000 ms. */
  timeoutMs?: number;
}

export interface Connection {
  readonly spec: PortSpec;
  readonly isOpen: boolean;
  write(bytes: string): Promise<void>;
  /** Every chunk received. Returns an unsubscribe function. */
  onData(listener: (bytes: string) => void): () => void;
  /** Called once when the connection ends, with a reason if it was not closed by us. */
  onClose(listener: (reason: string | null) => void): () => void;
  close(): Promise<void>;
}

class BaseConnection {
  protected readonly dataListeners: Array<(bytes: string) => void> = [];
  protected readonly closeListeners: Array<(reason: string | null) => void> = [];
  protected ended = false;

  onData(listener: (bytes: string) => void): () => void {
    this.dataListeners.push(listener);
    return () => remove(this.dataListeners, listener);
  }

  onClose(listener: (reason: string | null) => void): () => void {
    this.closeListeners.push(listener);
    return () => remove(this.closeListeners, listener);
  }

  protected emitData(bytes: string): void {
    for (const l of [...this.dataListeners]) l(bytes);
  }

  protected emitClose(reason: string | null): void {
    if (this.ended) return;
    this.ended = true;
    for (const l of [...this.closeListeners]) l(reason);
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

class TcpConnection extends BaseConnection implements Connection {
  private closing = false;
  constructor(
    readonly spec: PortSpec,
    private readonly socket: net.Socket,
  ) {
    super();
    socket.on("data", (b: Buffer) => this.emitData(b.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => this.emitClose(this.closing ? null : "the connection was closed by the other end"));
  }
  get isOpen(): boolean {
    return !this.ended && !this.socket.destroyed;
  }
  write(bytes: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new PortError("io", `${this.spec.text}: not connected`));
      this.socket.write(Buffer.from(bytes, "latin1"), (err) => (err ? reject(new PortError("io", `${this.spec.text}: ${err.message}`)) : resolve()));
    });
  }
  close(): Promise<void> {
    this.closing = true;
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClose(() => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 500).unref();
    });
  }
}

interface SerialStream {
  isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  write(data: Buffer, cb: (err: Error | null | undefined) => void): boolean;
  close(cb?: (err: Error | null) => void): void;
  on(event: "data", cb: (b: Buffer) => void): void;
  on(event: "close", cb: (err?: Error & { disconnected?: boolean }) => void): void;
  on(event: "error", cb: (err: Error) => void): void;
}

class SerialConnection extends BaseConnection implements Connection {
  private closing = false;
  constructor(
    readonly spec: PortSpec,
    private readonly port: SerialStream,
  ) {
    super();
    port.on("data", (b: Buffer) => this.emitData(b.toString("latin1")));
    port.on("error", () => undefined);
    port.on("close", (err) => this.emitClose(this.closing ? null : err?.message ? `the device went away (${err.message})` : "the device was closed"));
  }
  get isOpen(): boolean {
    return !this.ended && this.port.isOpen;
  }
  write(bytes: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new PortError("io", `${this.spec.text}: not open`));
      this.port.write(Buffer.from(bytes, "latin1"), (err) => (err ? reject(new PortError("io", `${this.spec.text}: ${err.message}`)) : resolve()));
    });
  }
  close(): Promise<void> {
    this.closing = true;
    if (this.ended || !this.port.isOpen) {
      this.emitClose(null);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.port.close(() => {
        this.emitClose(null);
        resolve();
      });
    });
  }
}

function serialError(path: string, err: Error): PortError {
  const m = err.message;
  if (/No such file|ENOENT|does not exist|not found/i.test(m)) {
    const seen = likelySerialDevices();
    return new PortError(
      "not-found",
      `${path}: no such serial device (is the board plugged in?${seen.length ? ` devices here: ${seen.join(", ")}` : " no /dev/ttyACM* or /dev/ttyUSB* found"})`,
    );
  }
  if (/Permission denied|EACCES/i.test(m)) return new PortError("denied", `${path}: permission denied (add yourself to the dialout group, or check the device's permissions)`);
  if (/lock|Resource temporarily unavailable|EBUSY|busy/i.test(m)) return new PortError("busy", `${path}: the port is in use by another program (close the other terminal or monitor)`);
  return new PortError("io", `${path}: ${m}`);
}

async function defaultBinding(): Promise<SerialBinding> {
  const mod = (await import("serialport")) as unknown as { SerialPort: { binding: SerialBinding } };
  return mod.SerialPort.binding;
}

/** Open a port. Rejects with a PortError. */
export async function openPort(port: string | PortSpec, options: OpenOptions = {}): Promise<Connection> {
  const spec = typeof port === "string" ? parsePort(port) : port;
  const timeoutMs = options.timeoutMs ?? 5000;
  if (spec.kind === "tcp") {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: spec.host, port: spec.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new PortError("timeout", `${spec.text}: no connection after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("error", (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        if (err.code === "ECONNREFUSED") reject(new PortError("refused", `${spec.text}: connection refused (nothing is listening there: is the board's console, or npm start -- --serve, running?)`));
        else if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") reject(new PortError("not-found", `${spec.text}: unknown host ${spec.host}`));
        else reject(new PortError("io", `${spec.text}: ${err.message}`));
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new TcpConnection(spec, socket));
      });
    });
  }
  const binding = options.binding ?? (await defaultBinding());
  const { SerialPortStream } = await import("@serialport/stream");
  const stream = new SerialPortStream({ binding, path: spec.path, baudRate: options.baudRate ?? 9600, autoOpen: false }) as unknown as SerialStream;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PortError("timeout", `${spec.path}: did not open within ${timeoutMs} ms`)), timeoutMs);
    stream.open((err) => {
      clearTimeout(timer);
      if (err) reject(serialError(spec.path, err));
      else resolve();
    });
  });
  return new SerialConnection(spec, stream);
}
