// Intrusive circular doubly linked lists, as the kernel's list_head: a link
// object carries one node per list it is on. Deleting a node poisons its
// pointers so a walk that reaches it afterwards is detected, not followed.

export class ListNode<T> {
  next: ListNode<T>;
  prev: ListNode<T>;
  /** The object this node is embedded in; null for heads and poison. */
  owner: T | null;
  /** The owner's generation when it was linked, for use-after-free checks. */
  gen: number;
  /** Set only on the two poison nodes. */
  poison: boolean;
  constructor(owner: T | null) {
    this.next = this;
    this.prev = this;
    this.owner = owner;
    this.gen = 0;
    this.poison = false;
  }
}

/** Context: main (boot: the two poison nodes are made once). */
function makePoison(): ListNode<never> {
  const node = new ListNode<never>(null);
  node.poison = true;
  return node;
}

/** What a deleted node's next and prev point at (LIST_POISON1 and 2). */
export const POISON_NEXT: ListNode<never> = makePoison();
export const POISON_PREV: ListNode<never> = makePoison();

/** Context: both. */
export function listInit<T>(head: ListNode<T>): void {
  head.next = head;
  head.prev = head;
}

/** Context: both. */
export function listEmpty<T>(head: ListNode<T>): boolean {
  return head.next === head;
}

/** Context: both. */
export function isPoisoned<T>(node: ListNode<T>): boolean {
  return node.poison || node.next.poison || node.prev.poison;
}

/** Append `node` at the tail of the list headed by `head`. Context: both. */
export function listAddTail<T>(node: ListNode<T>, head: ListNode<T>): void {
  const last = head.prev;
  node.next = head;
  node.prev = last;
  last.next = node;
  head.prev = node;
}

/**
 * Unlink `node` and poison it. Returns false, changing nothing, if the node
 * is already poisoned (a double delete).
 * Context: both.
 */
export function listDel<T>(node: ListNode<T>): boolean {
  if (isPoisoned(node)) return false;
  const prev = node.prev;
  const next = node.next;
  next.prev = prev;
  prev.next = next;
  node.next = POISON_NEXT as ListNode<T>;
  node.prev = POISON_PREV as ListNode<T>;
  return true;
}
