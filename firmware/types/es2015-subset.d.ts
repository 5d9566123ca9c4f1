// The ES2015 library members that Espruino 2v29 implements (measured, see the
// facts file). lib is ES5, so anything not listed here fails to type-check.

interface Array<T> {
  find(predicate: (value: T, index: number) => boolean): T | undefined;
  findIndex(predicate: (value: T, index: number) => boolean): number;
  fill(value: T, start?: number, end?: number): this;
  includes(value: T): boolean;
}
interface String {
  startsWith(search: string): boolean;
  padStart(length: number, fill?: string): string;
  repeat(count: number): string;
}
interface ObjectConstructor {
  assign<T extends object, U>(target: T, source: U): T & U;
}
interface Math {
  sign(x: number): number;
}
interface Int16Array {
  fill(value: number, start?: number, end?: number): this;
}
interface Int32Array {
  fill(value: number, start?: number, end?: number): this;
}
interface Uint8Array {
  fill(value: number, start?: number, end?: number): this;
}
interface Uint16Array {
  fill(value: number, start?: number, end?: number): this;
}
interface Float32Array {
  fill(value: number, start?: number, end?: number): this;
}
interface Float64Array {
  fill(value: number, start?: number, end?: number): this;
}
