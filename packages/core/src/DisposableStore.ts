/** Something that releases a resource when disposed. */
export interface Disposable {
  /** Releases the resource; calling it twice is harmless. */
  dispose(): void | Promise<void>;
}

/**
 * Collects children (subscriptions, watchers, timers) and disposes them in reverse order of
 * addition, once. Owners keep one and dispose it in their own `close()` (the vscode pattern).
 *
 * @example
 * const store = new DisposableStore();
 * store.add(bus.subscribe('billing', [on(TimeLogged, handle)]));
 * await store.dispose();
 */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposing: Promise<void> | undefined;

  /** Whether {@link DisposableStore.dispose} has been called. */
  get isDisposed(): boolean {
    return this.disposing !== undefined;
  }

  /** Adds a child; one added after disposal is disposed at once. */
  add<T extends Disposable>(item: T): T {
    if (this.disposing) {
      void Promise.resolve(item.dispose()).catch(() => undefined);
    } else {
      this.items.push(item);
    }
    return item;
  }

  /** Disposes every child in reverse order; errors are collected into one AggregateError. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const errors: unknown[] = [];
      for (const item of this.items.splice(0).reverse()) {
        try {
          await item.dispose();
        } catch (e: unknown) {
          errors.push(e);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'some resources failed to dispose');
    })();
    return this.disposing;
  }

  /** Same as {@link DisposableStore.dispose}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** Wraps a function as a {@link Disposable} that runs it at most once. */
export function toDisposable(fn: () => void | Promise<void>): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      return fn();
    },
  };
}
