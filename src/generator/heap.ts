/**
 * A binary min-heap of scheduled items, ordered by time `t` then by insertion sequence `seq`, so
 * items due at the same millisecond come out in the order they were scheduled (deterministic).
 */
export interface Scheduled {
  /** Due time, epoch milliseconds. */
  t: number;
  /** Set by the heap on push: the tie-breaker. */
  seq: number;
}

export class MinHeap<T extends Scheduled> {
  private readonly items: T[] = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  /** The earliest item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.seq = this.counter++;
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (parent.t < item.t || (parent.t === item.t && parent.seq < item.seq)) break;
      items[i] = parent;
      i = parentIndex;
    }
    items[i] = item;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      let child = left;
      let childItem = items[left] as T;
      const right = left + 1;
      if (right < n) {
        const rightItem = items[right] as T;
        if (rightItem.t < childItem.t || (rightItem.t === childItem.t && rightItem.seq < childItem.seq)) {
          child = right;
          childItem = rightItem;
        }
      }
      if (last.t < childItem.t || (last.t === childItem.t && last.seq < childItem.seq)) break;
      items[i] = childItem;
      i = child;
    }
    items[i] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}
