// The dashboard's GraphQL client: queries and mutations over HTTP, subscriptions over one
// graphql-ws (graphql-transport-ws) WebSocket, both with the stored API key.
import { createClient, type Client } from "graphql-ws";
import type { TypedDocumentString } from "../gql/graphql";
import { storedApiKey } from "../apiKey";

const HTTP_URL = new URL("/graphql", window.location.href).toString();
const WS_URL = HTTP_URL.replace(/^http/, "ws");

export type UserError = { code: string; field: string[]; message: string };

/** A GraphQL error (or a refused request) with the gateway's `extensions.code`. */
export class GatewayError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

type GraphQLErrorBody = { message: string; extensions?: { code?: string } };

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const key = storedApiKey();
  if (key) headers["x-api-key"] = key;
  const response = await fetch(HTTP_URL, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
  });
  let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new GatewayError(`HTTP ${response.status} ${response.statusText}`, undefined);
  }
  if (body.errors?.length) throw asGatewayError(body.errors);
  if (!response.ok || body.data == null) {
    throw new GatewayError(`HTTP ${response.status} ${response.statusText}`, undefined);
  }
  return body.data;
}

function asGatewayError(errors: readonly GraphQLErrorBody[]): GatewayError {
  const first = errors[0]!;
  return new GatewayError(
    errors.map((e) => e.message).join("; "),
    first.extensions?.code,
  );
}

let wsClient: Client | null = null;
const connectionListeners = new Set<(connected: boolean) => void>();

/** Tells `listener` when the subscriptions' WebSocket connects and drops. */
export function onConnectionChange(listener: (connected: boolean) => void): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function client(): Client {
  wsClient ??= createClient({
    url: WS_URL,
    lazy: true,
    // No retries of its own: a retried subscription would be sent again as it was, while the
    // dashboard resumes from the last change it saw (see Jobs).
    retryAttempts: 0,
    connectionParams: () => ({ apiKey: storedApiKey() || undefined }),
    on: {
      connected: () => connectionListeners.forEach((listener) => listener(true)),
      closed: () => connectionListeners.forEach((listener) => listener(false)),
    },
  });
  return wsClient;
}

/** A new key (or none): the next subscription opens a connection that sends it. */
export function resetConnection(): void {
  void wsClient?.dispose();
  wsClient = null;
}

/** Follows a subscription; returns the function that stops it, after which nothing more is
 * called. A lost connection ends it with an error whose `code` is undefined; the server
 * ending it calls `onComplete`. */
export function subscribe<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  onError: (error: GatewayError) => void,
  onComplete: () => void = () => {},
): () => void {
  let stopped = false;
  const unsubscribe = client().subscribe<TResult>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (stopped) return;
        if (result.errors?.length) onError(asGatewayError(result.errors));
        else if (result.data) onData(result.data);
      },
      error: (error) => {
        if (stopped) return;
        if (Array.isArray(error)) onError(asGatewayError(error as GraphQLErrorBody[]));
        else onError(new GatewayError(error instanceof Error ? error.message : "connection lost", undefined));
      },
      complete: () => {
        if (!stopped) onComplete();
      },
    },
  );
  return () => {
    stopped = true;
    unsubscribe();
  };
}
