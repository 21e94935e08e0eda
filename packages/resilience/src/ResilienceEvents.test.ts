import { describe, expect, it, vi } from 'vitest';
import { ResilienceEvents } from './ResilienceEvents.js';

describe('ResilienceEvents', () => {
  it('delivers events by type until the subscription is disposed', () => {
    const events = new ResilienceEvents();
    const opened: string[] = [];
    const sub = events.on('breakerOpen', (e) => opened.push(e.target));
    events.emit({ type: 'breakerOpen', target: 'a' });
    events.emit({ type: 'breakerClose', target: 'a' });
    void sub.dispose();
    void sub.dispose();
    events.emit({ type: 'breakerOpen', target: 'b' });
    expect(opened).toEqual(['a']);
  });

  it('delivers every event to onAny listeners', () => {
    const events = new ResilienceEvents();
    const all: string[] = [];
    events.onAny((e) => all.push(e.type));
    events.emit({ type: 'breakerOpen', target: 'a' });
    events.emit({ type: 'timeout', target: undefined, budgetMs: 5 });
    expect(all).toEqual(['breakerOpen', 'timeout']);
  });

  it('isolates a listener that throws and reports it as a process warning', () => {
    const events = new ResilienceEvents();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const after = vi.fn();
    events.on('breakerOpen', () => {
      throw new Error('listener bug');
    });
    events.on('breakerOpen', after);
    expect(() => events.emit({ type: 'breakerOpen', target: 'a' })).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('listener bug'), 'RefrontResilience');
    warn.mockRestore();
  });
});
