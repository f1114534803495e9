// Types for the dashboard's operations, generated from the gateway's schema.graphql.
// `npm run codegen` rewrites src/gql/ (committed); `npm run codegen:check` fails when it is
// stale, which `make frontend-check` runs in CI.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/dashboard/**/*.ts", "src/dashboard/**/*.tsx"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as strings: the dashboard sends them as they are, so no GraphQL
        // parser or printer ends up in its bundle.
        documentMode: "string",
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        strictScalars: true,
        scalars: {
          // Nanosecond ISO-8601 strings: a Date would drop digits.
          Timestamp: "string",
          // 64-bit integers: a JSON number today, a string once the gateway sends them so.
          Long: "string | number",
          JSON: "unknown",
          Upload: "File",
        },
      },
    },
  },
};

export default config;
