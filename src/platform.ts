import type { Store } from './storage/types.js';

let makeDefaultStore: () => Store = () => {
  throw new Error('checkpoint-tool: no default store; pass `store` in the options');
};
let defaultStore: Store | undefined;

/** Sets how the platform's default store is made; called once by each entry point. */
export function setDefaultStore(make: () => Store): void {
  makeDefaultStore = make;
  defaultStore = undefined;
}

/** The platform's default store, made on first use. */
export function getDefaultStore(): Store {
  defaultStore ??= makeDefaultStore();
  return defaultStore;
}
