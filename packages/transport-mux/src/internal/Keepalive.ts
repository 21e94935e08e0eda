function onIdle(k: Keepalive): void {
  k.idleFired();
}

function onWait(k: Keepalive): void {
  k.waitFired();
}

/**
 * Keepalive and dead-peer detection for one connection: when nothing was read for about
 * `timeMs`, `ping` is called; when nothing at all is read for `timeoutMs` after that, `dead` is
 * called. Reading costs one flag write per chunk; the two timers are made once and refreshed.
 */
export class Keepalive {
  private readSince = false;
  private readonly idle: NodeJS.Timeout;
  private wait: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    timeMs: number,
    private readonly timeoutMs: number,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {
    this.idle = setTimeout(onIdle, timeMs, this).unref();
  }

  /** Something was read from the peer. */
  touched(): void {
    this.readSince = true;
  }

  /** @internal */
  idleFired(): void {
    if (this.stopped) return;
    if (this.readSince) {
      this.readSince = false;
      this.idle.refresh();
      return;
    }
    this.ping();
    if (this.wait) this.wait.refresh();
    else this.wait = setTimeout(onWait, this.timeoutMs, this).unref();
  }

  /** @internal */
  waitFired(): void {
    if (this.stopped) return;
    if (this.readSince) {
      this.readSince = false;
      this.idle.refresh();
      return;
    }
    this.stop();
    this.dead();
  }

  /** Clears both timers. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.idle);
    if (this.wait) clearTimeout(this.wait);
  }
}
