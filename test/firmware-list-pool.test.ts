// firmware/list.ts and firmware/pool.ts: delete poisons and unlinks, a double
// delete is refused; a free bumps the generation so a stale reference shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ListNode, listAddTail, listDel, listEmpty, listInit, isPoisoned, POISON_NEXT, POISON_PREV } from "../firmware/list.ts";
import { Pool, type Pooled } from "../firmware/pool.ts";

function walk(head: ListNode<string>): string[] {
  const out: string[] = [];
  for (let n = head.next; n !== head; n = n.next) out.push(n.owner as string);
  return out;
}
function walkBack(head: ListNode<string>): string[] {
  const out: string[] = [];
  for (let n = head.prev; n !== head; n = n.prev) out.push(n.owner as string);
  return out;
}

test("listAddTail keeps order both ways", () => {
  const head = new ListNode<string>(null);
  assert.equal(listEmpty(head), true);
  for (const name of ["a", "b", "c"]) listAddTail(new ListNode<string>(name), head);
  assert.deepEqual(walk(head), ["a", "b", "c"]);
  assert.deepEqual(walkBack(head), ["c", "b", "a"]);
  assert.equal(listEmpty(head), false);
  listInit(head);
  assert.equal(listEmpty(head), true);
});

test("delete unlinks the neighbours and poisons next/prev", () => {
  const head = new ListNode<string>(null);
  const a = new ListNode<string>("a");
  const b = new ListNode<string>("b");
  const c = new ListNode<string>("c");
  listAddTail(a, head);
  listAddTail(b, head);
  listAddTail(c, head);
  assert.equal(isPoisoned(b), false);
  assert.equal(listDel(b), true);
  assert.equal(a.next, c, "prev neighbour now points past the deleted node");
  assert.equal(c.prev, a, "next neighbour now points back past it");
  assert.equal(b.next, POISON_NEXT);
  assert.equal(b.prev, POISON_PREV);
  assert.equal(isPoisoned(b), true);
  assert.deepEqual(walk(head), ["a", "c"]);
  assert.deepEqual(walkBack(head), ["c", "a"]);
  // A walker that held the deleted node sees poison, not a live node.
  assert.equal(b.next.poison, true);
  assert.equal(POISON_NEXT.owner, null);
});

test("a double delete is refused and changes nothing", () => {
  const head = new ListNode<string>(null);
  const a = new ListNode<string>("a");
  const b = new ListNode<string>("b");
  listAddTail(a, head);
  listAddTail(b, head);
  assert.equal(listDel(a), true);
  assert.equal(listDel(a), false, "second delete must be refused");
  assert.deepEqual(walk(head), ["b"]);
  assert.equal(head.next, b);
  assert.equal(b.prev, head);
  assert.equal(POISON_NEXT.next, POISON_NEXT, "the poison nodes themselves are never written");
  assert.equal(POISON_PREV.prev, POISON_PREV);
  assert.equal(listDel(b), true);
  assert.equal(listEmpty(head), true);
});

test("a deleted node can be added again (re-use after poisoning)", () => {
  const head = new ListNode<string>(null);
  const a = new ListNode<string>("a");
  listAddTail(a, head);
  listDel(a);
  listAddTail(a, head);
  assert.equal(isPoisoned(a), false);
  assert.deepEqual(walk(head), ["a"]);
});

class Item implements Pooled {
  slot: number;
  gen: number;
  inUse: boolean;
  constructor(slot: number) {
    this.slot = slot;
    this.gen = 0;
    this.inUse = false;
  }
}
const makePool = (size: number): Pool<Item> => new Pool<Item>(size, (slot) => new Item(slot));

test("free bumps the generation: a stale reference is detectable after reuse", () => {
  const pool = makePool(1);
  const first = pool.alloc() as Item;
  const gen = first.gen;
  assert.equal(pool.isLive(first, gen), true);
  assert.equal(pool.free(first), true);
  assert.equal(first.gen, gen + 1, "free bumps the generation");
  assert.equal(pool.isLive(first, gen), false, "freed: the old reference is not live");
  const again = pool.alloc() as Item;
  assert.equal(again, first, "the one slot is reused");
  assert.equal(pool.isLive(again, gen), false, "reused: the old generation is still detectably stale");
  assert.equal(pool.isLive(again, again.gen), true);
});

test("a double free is refused and does not corrupt the free stack", () => {
  const pool = makePool(2);
  const a = pool.alloc() as Item;
  assert.equal(pool.free(a), true);
  const gen = a.gen;
  assert.equal(pool.free(a), false);
  assert.equal(a.gen, gen, "a refused free changes no generation");
  assert.equal(pool.allocated, 0);
  const x = pool.alloc();
  const y = pool.alloc();
  assert.ok(x && y && x !== y, "two allocations still give two distinct slots");
  assert.equal(pool.alloc(), null);
});

test("exhaustion returns null and counts each failure", () => {
  const pool = makePool(3);
  const got = [pool.alloc(), pool.alloc(), pool.alloc()];
  assert.equal(new Set(got.map((i) => i && i.slot)).size, 3);
  assert.equal(pool.allocated, 3);
  assert.equal(pool.alloc(), null);
  assert.equal(pool.alloc(), null);
  assert.equal(pool.failures, 2);
  assert.equal(pool.allocated, 3);
  pool.free(got[1] as Item);
  assert.equal(pool.alloc(), got[1]);
  assert.equal(pool.failures, 2);
});
