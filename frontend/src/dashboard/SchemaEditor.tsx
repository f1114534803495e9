// The export schema editor: a definition (ExportSchemaDefinitionInput as JSON), started from
// any schema, previewed live on a datastream's first rows as it is edited; saved as a new
// schema of the workspace.
import { useEffect, useState } from "preact/hooks";
import type {
  DatastreamFieldsFragment,
  ExportSchemaDefinitionInput,
  PreviewExportSchemaQuery as PreviewResult,
} from "../gql/graphql";
import { request, type UserError } from "./api";
import type { SchemaChoice } from "./ExportForm";
import { CreateExportSchemaMutation, PreviewExportSchemaQuery } from "./operations";

type Preview = PreviewResult["previewExportSchema"];

type Props = {
  session: number;
  datastreams: DatastreamFieldsFragment[];
  schemas: SchemaChoice[];
  onSaved: () => void;
};

/** The definition as an input, without the nulls of fields left out. */
function asEditable(definition: unknown): string {
  return JSON.stringify(definition, (_key, value: unknown) => (value === null ? undefined : value), 2);
}

export function SchemaEditor({ session, datastreams, schemas, onSaved }: Props) {
  const [base, setBase] = useState(0); // which of the schemas the definition started from
  const [datastreamId, setDatastreamId] = useState("");
  const [text, setText] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState("");
  const [name, setName] = useState("");
  const [saveErrors, setSaveErrors] = useState<UserError[]>([]);
  const [saved, setSaved] = useState("");

  useEffect(() => {
    if (!datastreamId && datastreams.length) setDatastreamId(datastreams[0]!.id);
  }, [datastreams]);

  useEffect(() => {
    const schema = schemas[base];
    if (schema) setText(asEditable(schema.definition));
  }, [session, base]);
  useEffect(() => {
    const schema = schemas[base];
    if (!text && schema) setText(asEditable(schema.definition)); // the list has just arrived
  }, [schemas]);

  // Every edit, once the typing pauses: parse, then preview.
  useEffect(() => {
    if (!text || !datastreamId) return;
    let live = true;
    const timer = setTimeout(() => {
      let inlineSchema: ExportSchemaDefinitionInput;
      try {
        inlineSchema = JSON.parse(text) as ExportSchemaDefinitionInput;
      } catch (error) {
        setProblem(`not JSON: ${(error as Error).message}`);
        return;
      }
      request(PreviewExportSchemaQuery, { datastreamId, inlineSchema, limit: 10 })
        .then((data) => {
          if (!live) return;
          setPreview(data.previewExportSchema);
          setProblem("");
        })
        .catch((error: Error) => live && setProblem(error.message));
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [text, datastreamId]);

  const save = async () => {
    setSaved("");
    try {
      const definition = JSON.parse(text) as ExportSchemaDefinitionInput;
      const data = await request(CreateExportSchemaMutation, { input: { name, definition } });
      setSaveErrors(data.createExportSchema.userErrors);
      const schema = data.createExportSchema.exportSchema;
      if (schema) {
        setSaved(`saved ${schema.name} v${schema.version ?? 1}`);
        onSaved();
      }
    } catch (error) {
      setProblem((error as Error).message);
    }
  };

  const errors = preview?.userErrors ?? [];
  return (
    <section id="schema-editor">
      <h2>Export schema editor</h2>
      <div class="filters">
        <label>
          Start from{" "}
          <select name="base" value={String(base)} onChange={(e) => setBase(Number(e.currentTarget.value))}>
            {schemas.map((s, index) => (
              <option value={String(index)}>
                {s.name} ({s.streamCategory}{s.version ? ` v${s.version}` : ""})
              </option>
            ))}
          </select>
        </label>
        <label>
          Preview on{" "}
          <select name="previewDatastream" value={datastreamId} onChange={(e) => setDatastreamId(e.currentTarget.value)}>
            {datastreams.map((d) => (
              <option value={d.id}>
                {String(d.datastreamId)} {d.exchange.code} {d.instrument.symbol} {d.streamType}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="editor">
        <textarea
          name="definition"
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <div class="preview" data-testid="preview">
          {problem && <p class="error" role="alert">{problem}</p>}
          {errors.length > 0 && (
            <ul class="problems" role="alert">
              {errors.map((e) => (
                <li><code>{e.code}</code> <code>{e.field.join(".")}</code> {e.message}</li>
              ))}
            </ul>
          )}
          {preview && !errors.length && (
            <table>
              <thead>
                <tr>{preview.columns.map((c) => <th>{c.name}<br /><small>{c.type}</small></th>)}</tr>
              </thead>
              <tbody>
                {preview.rows.map((row) => <tr>{row.map((cell) => <td>{cell ?? "∅"}</td>)}</tr>)}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <div class="filters">
        <label>
          Save as{" "}
          <input name="schemaName" value={name} placeholder="my_schema" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="button" disabled={!name.trim()} onClick={save}>Save schema</button>
        {saved && <span class="muted">{saved}</span>}
      </div>
      {saveErrors.length > 0 && (
        <ul class="problems" role="alert">
          {saveErrors.map((e) => <li><code>{e.code}</code> {e.message}</li>)}
        </ul>
      )}
    </section>
  );
}
