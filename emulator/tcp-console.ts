// The emulated board's console on a TCP port, as Espruino's own telnet
// console serves it (the Linux build's `--telnet`, port 2323; an Espruino
// WiFi's port 23): raw bytes both ways, no telnet option negotiation. The
// upload tool connects to it with `-p tcp://HOST:PORT`, `npm run flash` and
// `npm run monitor` with `--port tcp://HOST:PORT`.
//
// Loopback only: the server refuses to bind anything but a loopback address
// and drops connections from anywhere else. One client holds the console at
// a time (a serial port cannot be opened twice either): a second connection
// is told "console busy" and closed.
//
// For tests of the tools' failure handling, `dropAfterBytes` cuts any
// connection once it has sent that many bytes (a cable pulled mid-upload).

import net from "node:net";
import type { DevBoard } from "./dev-board.ts";

export interface TcpConsoleOptions {
  /** A loopback address. Default "127.0.0.1". */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Close a connection once it has sent this many bytes (the rest is never seen by the board). */
  dropAfterBytes?: number;
  /** Told of connections, disconnections and refusals. */
  onEvent?: (message: string) => void;
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::ffff:127.0.0.1";
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address);
}

export class TcpConsole {
  private client: net.Socket | null = null;
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  private constructor(
    private readonly board: DevBoard,
    private readonly server: net.Server,
    readonly host: string,
    readonly port: number,
    private readonly options: TcpConsoleOptions,
  ) {}

  /** Serve `board`'s console. Resolves once listening. */
  static listen(board: DevBoard, options: TcpConsoleOptions = {}): Promise<TcpConsole> {
    const host = options.host ?? "127.0.0.1";
    if (!isLoopbackHost(host)) {
      return Promise.reject(new Error(`the emulated console only listens on loopback (127.0.0.1 or ::1), not ${host}`));
    }
    const bindHost = host === "localhost" ? "127.0.0.1" : host;
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, bindHost, () => {
        server.off("error", reject);
        const address = server.address() as net.AddressInfo;
        const tcp = new TcpConsole(board, server, bindHost, address.port, options);
        server.on("connection", (socket) => tcp.accept(socket));
        resolve(tcp);
      });
    });
  }

  /** "tcp://127.0.0.1:PORT": what to give the upload tool, flash and monitor. */
  get url(): string {
    return `tcp://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get clientConnected(): boolean {
    return this.client !== null;
  }

  /** Disconnect the client (if any), as if its cable was pulled; the server keeps listening. */
  dropClient(): void {
    this.client?.destroy();
  }

  /** Stop listening and close every connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const who = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!isLoopbackAddress(socket.remoteAddress)) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    if (this.client) {
      this.options.onEvent?.(`refused ${who}: console busy`);
      socket.end("\r\nconsole busy: another connection holds this board's console\r\n");
      return;
    }
    this.client = socket;
    socket.setNoDelay(true);
    this.options.onEvent?.(`connected ${who}`);
    const tx = (bytes: string): void => {
      if (!socket.destroyed) socket.write(Buffer.from(bytes, "latin1"));
    };
    this.board.attach(tx);
    let received = 0;
    const limit = this.options.dropAfterBytes;
    socket.on("data", (buf: Buffer) => {
      if (limit !== undefined && received + buf.length > limit) {
        const keep = limit - received;
        received = limit;
        if (keep > 0) this.board.input(buf.subarray(0, keep).toString("latin1"));
        this.options.onEvent?.(`dropped ${who} after ${limit} bytes (fault injection)`);
        socket.destroy();
        return;
      }
      received += buf.length;
      this.board.input(buf.toString("latin1"));
    });
    socket.on("close", () => {
      if (this.client === socket) {
        this.client = null;
        this.board.detach(tx);
        this.options.onEvent?.(`disconnected ${who}`);
      }
    });
  }
}
