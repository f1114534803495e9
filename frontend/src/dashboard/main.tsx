// The reference dashboard: browse datastreams and their data, create exports (estimated
// first), follow the jobs live, edit export schemas with a live preview.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type {
  DatastreamFieldsFragment,
  ExportJobFieldsFragment,
  ExportSchemasQuery as ExportSchemasResult,
} from "../gql/graphql";
import { adoptKeyFromLocation, storedApiKey, storeApiKey } from "../apiKey";
import { request, resetConnection } from "./api";
import { Catalog, type Range } from "./Catalog";
import { ExportForm, type SchemaChoice } from "./ExportForm";
import { Jobs } from "./Jobs";
import { ExportSchemasQuery, ViewerQuery } from "./operations";
import { SchemaEditor } from "./SchemaEditor";
import "./style.css";

adoptKeyFromLocation();

function KeyBar({ onChange, viewer }: { onChange: () => void; viewer: string }) {
  const [key, setKey] = useState(storedApiKey());
  const save = (event: Event) => {
    event.preventDefault();
    storeApiKey(key.trim());
    onChange();
  };
  return (
    <form class="keybar" onSubmit={save}>
      <label>
        API key{" "}
        <input name="apiKey" type="password" autocomplete="off" value={key} placeholder="egw_…"
          onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <button type="submit">Use key</button>
      <span class="muted" data-testid="viewer">{viewer}</span>
    </form>
  );
}

function App() {
  const [session, setSession] = useState(0);
  const [viewer, setViewer] = useState("");
  const [error, setError] = useState("");
  const [all, setAll] = useState<DatastreamFieldsFragment[]>([]);
  const [picked, setPicked] = useState<DatastreamFieldsFragment[]>([]);
  const [range, setRange] = useState<Range>({ start: "", end: "" });
  const [schemas, setSchemas] = useState<SchemaChoice[]>([]);
  const [created, setCreated] = useState<ExportJobFieldsFragment | null>(null);

  // Pages of 20: a page of definitions is what the gateway's query cost limit allows.
  const loadSchemas = async () => {
    try {
      const all: SchemaChoice[] = [];
      let after: string | null = null;
      do {
        const data: ExportSchemasResult = await request(ExportSchemasQuery, { after });
        all.push(...data.exportSchemas.edges.map((e) => e.node));
        after = data.exportSchemas.pageInfo.hasNextPage ? (data.exportSchemas.pageInfo.endCursor ?? null) : null;
      } while (after !== null);
      setSchemas(all);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    setError("");
    request(ViewerQuery)
      .then((data) =>
        setViewer(`workspace ${data.viewer.workspace.name} · ${data.viewer.apiKey.role} key “${data.viewer.apiKey.name}”`),
      )
      .catch((e: Error) => {
        setViewer("");
        setError(storedApiKey() ? e.message : "Paste an API key (make run prints one) and press “Use key”.");
      });
    void loadSchemas();
  }, [session]);

  const toggle = (datastream: DatastreamFieldsFragment) =>
    setPicked((current) =>
      current.some((d) => d.id === datastream.id)
        ? current.filter((d) => d.id !== datastream.id)
        : [...current, datastream],
    );

  return (
    <>
      <header>
        <h1>Export gateway</h1>
        <nav>
          <a href="#catalog">Datastreams</a> <a href="#new-export">New export</a> <a href="#jobs">Jobs</a>{" "}
          <a href="#schema-editor">Schema editor</a> <a href="/graphql">GraphiQL</a>
        </nav>
        <KeyBar viewer={viewer} onChange={() => { resetConnection(); setSession((s) => s + 1); }} />
      </header>
      {error && (
        <p class="error banner" role="alert">
          {error} <button type="button" onClick={() => setError("")}>×</button>
        </p>
      )}
      <main>
        <Catalog
          session={session}
          selected={picked.map((d) => d.id)}
          onToggle={toggle}
          onRange={setRange}
          onDatastreams={setAll}
          onError={setError}
        />
        <ExportForm datastreams={picked} range={range} onRange={setRange} schemas={schemas} onCreated={setCreated} />
        <Jobs session={session} created={created} onError={setError} />
        <SchemaEditor session={session} datastreams={all} schemas={schemas} onSaved={loadSchemas} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
