// Typical firmware patterns, built by the real toolchain for the scanner's clean-bundle fixture.
const enum State { Idle, Running }
enum Rate { R8k = 8000, R48k = 48000 }
interface Sink { write(buf: Int16Array): number }
class Ring {
  private readonly buf: Int16Array;
  private head = 0;
  constructor(size: number) { this.buf = new Int16Array(size); }
  get free(): number { return this.buf.length - this.head; }
  push(src: Int16Array): number {
    const n = Math.min(src.length, this.free);
    this.buf.set(src.subarray(0, n), this.head);
    this.head += n;
    return n;
  }
}
class Dai extends Ring implements Sink {
  state = State.Idle;
  name?: string;
  constructor(size: number, name?: string) { super(size); this.name = name; }
  write(buf: Int16Array): number { this.state = State.Running; return this.push(buf); }
}
function makeCallbacks(n: number): Array<() => number> {
  const out: Array<() => number> = [];
  for (let i = 0; i < n; i++) { const k = i; out.push(() => k * 2); }
  return out;
}
const table: { [k: string]: number } = {};
const dai = new Dai(256, "i2s");
const cbs = makeCallbacks(3);
for (let j = 0; j < cbs.length; j++) table["cb" + j] = cbs[j]();
for (const k in table) if (Object.prototype.hasOwnProperty.call(table, k)) print(`${k}=${table[k]}`);
print(dai.name ?? "none", dai.name?.length, Rate.R48k, Math.pow(2, 3), [1, 2].slice(1), Object.keys(table).length);
setInterval(() => dai.write(new Int16Array(4)), 10);
