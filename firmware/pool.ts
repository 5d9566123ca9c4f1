// A fixed pool of objects with a generation count per slot. Nothing is
// allocated after start-up (and never in the interrupt); a freed slot bumps
// its generation, so a stale reference is detectable rather than silently
// reused.

export interface Pooled {
  /** Index in the pool. */
  slot: number;
  /** Incremented on every free. */
  gen: number;
  inUse: boolean;
}

export class Pool<T extends Pooled> {
  readonly items: T[];
  /** Stack of free slot indices; freeTop entries are valid. */
  private freeSlots: Int16Array;
  private freeTop: number;
  allocated: number;
  failures: number;

  constructor(size: number, make: (slot: number) => T) {
    this.items = [];
    this.freeSlots = new Int16Array(size);
    for (let i = 0; i < size; i++) {
      this.items.push(make(i));
      this.freeSlots[i] = size - 1 - i;
    }
    this.freeTop = size;
    this.allocated = 0;
    this.failures = 0;
  }

  /** Take a free slot, or null when the pool is exhausted. Context: main. */
  alloc(): T | null {
    if (this.freeTop === 0) {
      this.failures++;
      return null;
    }
    const item = this.items[this.freeSlots[--this.freeTop]];
    item.inUse = true;
    this.allocated++;
    return item;
  }

  /**
   * Invalidate every handle to `item` (bump its generation) while it stays
   * allocated: the first half of a free, done where it leaves the graph.
   * Context: both.
   */
  retire(item: T): void {
    item.gen++;
  }

  /** Return a slot. Returns false for a double free (the slot is not in use). Context: main. */
  free(item: T): boolean {
    if (!item.inUse) return false;
    item.inUse = false;
    item.gen++;
    this.freeSlots[this.freeTop++] = item.slot;
    this.allocated--;
    return true;
  }

  /** Is `item` still the same allocation as when its generation was `gen`? Context: both. */
  isLive(item: T, gen: number): boolean {
    return item.inUse && item.gen === gen;
  }
}
