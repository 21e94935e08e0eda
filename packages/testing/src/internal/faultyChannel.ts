import type { Call } from '@refront/core';
import { type Channel, CoreErrors } from '@refront/core';
import { type ClientMethod, sleep } from '@refront/core/transport';
import { TestingErrors } from '../errors.js';
import type { FaultTable } from './FaultTable.js';

/** Waits like a call whose request was lost: until its deadline passes or its signal aborts. */
function lost(call: Call<unknown>): Promise<never> {
  return new Promise<never>((_, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(call.signal?.reason);
    };
    const timer =
      call.deadline === undefined
        ? undefined
        : setTimeout(
            () => {
              call.signal?.removeEventListener('abort', onAbort);
              reject(CoreErrors.DEADLINE_EXCEEDED(`waiting for ${call.method.path} (dropped by the test)`));
            },
            Math.max(0, call.deadline - Date.now()),
          );
    if (call.signal?.aborted) onAbort();
    else call.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `inner` with the table's call faults applied on the way to the server, as the calling module
 * (`caller`) sends them. Only `unary` is offered, so clients run their full interceptor chain.
 */
export function faultyChannel(inner: Channel, caller: string, faults: FaultTable): Channel {
  return {
    async unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
      const fault = faults.forCall({ service: method.info.service, method: method.info.name, caller });
      if (!fault) return inner.unary(method, call);
      switch (fault.kind) {
        case 'drop':
          return lost(call as Call<unknown>);
        case 'delay':
          await sleep(fault.ms, call.signal);
          return inner.unary(method, call);
        case 'duplicate':
          await inner.unary(method, { ...call, metadata: { ...call.metadata } }).catch(() => undefined);
          return inner.unary(method, call);
        case 'fail':
          throw (
            fault.error ??
            TestingErrors.INJECTED_FAULT.with(
              { unprocessed: true },
              `call ${method.info.path} from ${caller}`,
            )
          );
      }
    },
  };
}
