/**
 * A Store that reports each failed call to LogEvents.storeError, by error code, and is otherwise
 * the store itself (same object behind a Proxy: every method, property and the other interfaces
 * the backend implements stay as they are). The sequencer and the service are given this one, so
 * that every database failure of the server is counted in `sumkeep_store_errors_total{code}`
 * whichever path met it: a commit, a lookup, a tile read, the readiness probe.
 */
import { isSumkeepError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import type { LogEvents } from './events.ts';

const codeOf = (e: unknown): string => (isSumkeepError(e) ? e.code : 'internal');

export function countStoreErrors<S extends Store>(store: S, events: Pick<LogEvents, 'storeError'>): S {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || prop === 'constructor') return v;
      let w = wrapped.get(prop);
      if (w === undefined) {
        const fn = v as (...args: unknown[]) => unknown;
        w = function (this: unknown, ...args: unknown[]): unknown {
          let r: unknown;
          try {
            r = fn.apply(target, args);
          } catch (e) {
            events.storeError(codeOf(e));
            throw e;
          }
          if (r instanceof Promise) {
            return r.catch((e: unknown) => {
              events.storeError(codeOf(e));
              throw e;
            });
          }
          return r;
        };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}
