// Comlink ships its Node adapter's types as `node-adapter.d.ts`, which TypeScript does not pair
// with the `.mjs` file under NodeNext resolution. Internal: no public declaration refers to it.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { MessagePort, Worker } from 'node:worker_threads';
  import type { Endpoint } from 'comlink';
  /** Wraps a worker thread or a port as the `Endpoint` that Comlink's `wrap` and `expose` take. */
  export default function nodeEndpoint(port: MessagePort | Worker): Endpoint;
}
