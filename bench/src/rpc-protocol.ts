/** What the `rpc` scenario's parent and its server children share: lane names and IPC messages. */

/** The lanes a server child can serve. */
/** `refront-mux-bare` is mux with the default interceptors and the policy off: what they cost is the difference. */
export type Lane = 'grpc-bare' | 'refront-grpc' | 'refront-mux' | 'refront-mux-bare' | 'moleculer' | 'nest';
/** Messages the parent sends. */
export type ToChild = { readonly type: 'cpu' } | { readonly type: 'stop' };
/** Messages the child sends. */
export type FromChild =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'cpu'; readonly micros: number; readonly rssBytes?: number };

/** Node id of the Moleculer server broker (the client's static `urls` name it). */
export const MOLECULER_SERVER_NODE = 'bench-echo-server';
