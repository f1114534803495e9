// Two pages, built into the Python package (app/static/dist) and served by the gateway:
// the dashboard (/dashboard, Preact) and GraphiQL (GET /graphql, React). Everything they
// load comes from there: no CDN, no fonts from the net.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/ui/",
  // The dashboard's JSX is Preact's; GraphiQL's page calls React.createElement itself.
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: resolve(__dirname, "../app/static/dist"),
    emptyOutDir: true,
    // GraphiQL is big; the dashboard is not: each page loads only its own chunks.
    chunkSizeWarningLimit: 3000,
    reportCompressedSize: false, // gzipping every chunk for a printed table costs seconds
    rollupOptions: {
      // GraphiQL's dependencies mark React server-component directives the browser build
      // drops anyway.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
      input: {
        dashboard: resolve(__dirname, "dashboard.html"),
        graphiql: resolve(__dirname, "graphiql.html"),
      },
    },
  },
  server: {
    // `npm run dev`: this server's pages, the API of a gateway running on :8000. The
    // gateway takes WebSockets from its own origin only, so the proxy says it is that.
    proxy: Object.fromEntries(
      ["/graphql", "/downloads"].map((path) => [
        path,
        {
          target: gateway,
          ws: path === "/graphql",
          changeOrigin: true,
          headers: { origin: gateway },
        },
      ]),
    ),
  },
});
