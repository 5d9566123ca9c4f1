// The board's flash filesystem, as Espruino's `require("Storage")` shows it:
// named files of bytes that survive reset(), load() and power cycles. The
// emulated dev board (dev-board.ts) keeps one Storage across every machine
// it boots, so code uploaded with the upload tool's SAVE_ON_SEND option
// (`require("Storage").write(".bootcde", chunk, offset, size)`) runs again
// at the next boot, as on the board.
//
// The subset (Espruino 2v29 semantics, src/jswrap_storage.c / jsflash.c):
//  - write(name, data)                 replace the file with data
//  - write(name, data, 0, size)        create a file of `size` bytes (0xFF,
//                                      like erased flash), data at offset 0
//  - write(name, data, offset)         write into an existing file; the file
//                                      must exist and be big enough
//  - read(name[, offset[, length]])    a byte string, or undefined
//  - readJSON(name[, noExceptions]), writeJSON(name, data)
//  - erase(name), eraseAll(), list([regex]), getFree(), compact()
// File names are at most 28 characters. Data is bytes: a string's character
// codes (0..255), an array of numbers, a typed array or an ArrayBuffer.
// Not modelled: flash pages, wear, the 32-byte headers' exact layout (each
// file costs 32 bytes plus its size rounded up to 4 in getFree()), StorageFile
// (open()), and the error texts (similar, not identical).

export const MAX_NAME = 28;
const HEADER_BYTES = 32;

export class StorageError extends Error {}

export class EspruinoStorage {
  private readonly files = new Map<string, Uint8Array>();
  /** Bytes of flash given to Storage. Default 128 KiB. */
  readonly capacity: number;

  constructor(options: { capacityBytes?: number } = {}) {
    this.capacity = options.capacityBytes ?? 128 * 1024;
  }

  /** The file as bytes (not a copy), or undefined. */
  bytes(name: string): Uint8Array | undefined {
    return this.files.get(name);
  }

  /** The file as a byte string (each character one byte), as read() returns it. */
  read(name: string, offset = 0, length?: number): string | undefined {
    const f = this.files.get(name);
    if (!f) return undefined;
    const end = length === undefined ? f.length : Math.min(f.length, offset + length);
    return latin1(f.subarray(Math.max(0, offset), end));
  }

  /** The file decoded as UTF-8 text (how JavaScript source uploaded by the tool is stored), or undefined. */
  readText(name: string): string | undefined {
    const f = this.files.get(name);
    return f ? new TextDecoder("utf-8").decode(f) : undefined;
  }

  /** Store text as UTF-8 bytes (what the upload tool does with code). */
  writeText(name: string, text: string): void {
    this.write(name, new TextEncoder().encode(text));
  }

  write(name: string, data: unknown, offset?: number, size?: number): boolean {
    checkName(name);
    const bytes = toBytes(data);
    const off = offset === undefined ? 0 : Math.floor(Number(offset));
    if (!Number.isFinite(off) || off < 0) throw new StorageError("Storage.write: offset must be a positive number");
    if (off === 0) {
      // A new file: `size` bytes (or the data's), erased flash reads 0xFF.
      const total = size === undefined ? bytes.length : Math.floor(Number(size));
      if (!(total >= bytes.length)) throw new StorageError(`Storage.write: size ${size} is smaller than the data (${bytes.length} bytes)`);
      const old = this.files.get(name);
      this.files.delete(name);
      if (this.used() + cost(total) > this.capacity) {
        if (old) this.files.set(name, old);
        throw new StorageError(`Storage.write: not enough free space for ${name} (${total} bytes, ${this.getFree()} free)`);
      }
      const f = new Uint8Array(total).fill(0xff);
      f.set(bytes, 0);
      this.files.set(name, f);
      return true;
    }
    const f = this.files.get(name);
    if (!f) throw new StorageError(`Storage.write: can't write to ${name} at offset ${off}: the file does not exist (write offset 0 with a size first)`);
    if (off + bytes.length > f.length) {
      throw new StorageError(`Storage.write: ${bytes.length} bytes at offset ${off} do not fit in ${name} (${f.length} bytes)`);
    }
    f.set(bytes, off);
    return true;
  }

  erase(name: string): void {
    this.files.delete(name);
  }

  eraseAll(): void {
    this.files.clear();
  }

  list(filter?: RegExp): string[] {
    const names = [...this.files.keys()].sort();
    return filter ? names.filter((n) => filter.test(n)) : names;
  }

  getFree(): number {
    return Math.max(0, this.capacity - this.used());
  }

  private used(): number {
    let n = 0;
    for (const f of this.files.values()) n += cost(f.length);
    return n;
  }
}

function cost(size: number): number {
  return HEADER_BYTES + ((size + 3) & ~3);
}

function checkName(name: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME) {
    throw new StorageError(`Storage: invalid file name ${JSON.stringify(name)} (1 to ${MAX_NAME} characters)`);
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  return s;
}

/** Espruino's idea of "bytes" for a value. */
export function toBytes(data: unknown): Uint8Array {
  if (typeof data === "string") {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data.charCodeAt(i) & 0xff;
    return out;
  }
  if (data instanceof Uint8Array) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    const a = data as unknown as ArrayLike<number>;
    if (typeof a.length === "number") return Uint8Array.from(a, (x) => Number(x) & 0xff);
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") return new Uint8Array((data as ArrayBuffer).slice(0));
  if (Array.isArray(data)) return Uint8Array.from(data, (x) => Number(x) & 0xff);
  if (data === undefined || data === null) return new Uint8Array(0);
  return toBytes(String(data));
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib and Espruino's E.CRC32 compute it) of bytes. */
export function crc32(data: Uint8Array | string): number {
  const bytes = typeof data === "string" ? toBytes(data) : data;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
