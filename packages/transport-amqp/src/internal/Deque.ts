/**
 * A FIFO with O(1) push, shift and unshift (Array#shift copies large arrays: thousands of queued
 * publishes made it quadratic).
 */
export class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts `items` back in front, in their order. */
  unshift(...items: T[]): void {
    if (items.length === 0) return;
    if (items.length <= this.head) {
      this.head -= items.length;
      for (let i = 0; i < items.length; i++) this.items[this.head + i] = items[i];
    } else {
      this.items = [...items, ...this.items.slice(this.head)];
      this.head = 0;
    }
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes every item. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** The live items, oldest first. */
  toArray(): T[] {
    return this.items.slice(this.head) as T[];
  }
}
