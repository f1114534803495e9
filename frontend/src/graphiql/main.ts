// GraphiQL with the explorer plugin; queries over HTTP, subscriptions over graphql-ws on the
// same /graphql endpoint. The key comes from the headers tab, or else the dashboard's.
import { explorerPlugin } from "@graphiql/plugin-explorer";
import "@graphiql/plugin-explorer/style.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { adoptKeyFromLocation, storedApiKey } from "../apiKey";

adoptKeyFromLocation();

const http = new URL("/graphql", window.location.href).toString();

/** The X-Api-Key of GraphiQL's (persisted) headers tab, else the dashboard's key. */
function apiKey(): string | undefined {
  try {
    const headers = JSON.parse(localStorage.getItem("graphiql:headers") ?? "{}") as Record<
      string,
      unknown
    >;
    const key = headers["X-Api-Key"] ?? headers["x-api-key"];
    if (typeof key === "string" && key.startsWith("egw_")) return key;
  } catch {
    // unreadable headers: fall back to the dashboard's key
  }
  return storedApiKey() || undefined;
}

const fetcher = createGraphiQLFetcher({
  url: http,
  subscriptionUrl: http.replace(/^http/, "ws"),
  wsConnectionParams: () => ({ apiKey: apiKey() }),
});

const key = storedApiKey();
createRoot(document.getElementById("graphiql")!).render(
  createElement(GraphiQL, {
    fetcher,
    plugins: [explorerPlugin()],
    shouldPersistHeaders: true,
    defaultHeaders: JSON.stringify(
      { "X-Api-Key": key || "paste the key printed by `make run`" },
      null,
      2,
    ),
    defaultQuery:
      "query {\n  datastreams(first: 10) {\n    edges { node { id exchange { code } instrument { symbol } streamType } }\n  }\n}\n",
  }),
);
