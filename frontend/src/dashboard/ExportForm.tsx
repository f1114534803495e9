// A new export: the options of CreateExportInput, estimated (estimateExport) as they change;
// the job can be created once the estimate of exactly these options is shown.
import { useEffect, useState } from "preact/hooks";
import type {
  Compression,
  CreateExportInput,
  DatastreamFieldsFragment,
  EstimateExportQuery as EstimateResult,
  ExportSchemasQuery,
  ExportFormat,
  ExportJobFieldsFragment,
  ExportLayout,
  SplitPeriod,
} from "../gql/graphql";
import { request, type UserError } from "./api";
import type { Range } from "./Catalog";
import { bytes, count } from "./format";
import { CreateExportMutation, EstimateExportQuery } from "./operations";

type Estimate = EstimateResult["estimateExport"];
export type SchemaChoice = ExportSchemasQuery["exportSchemas"]["edges"][number]["node"];

type Props = {
  datastreams: DatastreamFieldsFragment[]; // the picked ones
  range: Range;
  onRange: (range: Range) => void;
  schemas: SchemaChoice[];
  onCreated: (job: ExportJobFieldsFragment) => void;
};

type Options = {
  format: ExportFormat;
  compression: Compression | "";
  schema: string;
  layout: ExportLayout;
  columns: string;
  limit: string;
  split: SplitPeriod | "";
  timezone: string;
  keepPartial: boolean;
  idempotencyKey: string;
};

const DEFAULTS: Options = {
  format: "PARQUET",
  compression: "",
  schema: "normalized",
  layout: "LONG",
  columns: "",
  limit: "",
  split: "",
  timezone: "",
  keepPartial: false,
  idempotencyKey: "",
};

function exportInput(datastreams: DatastreamFieldsFragment[], range: Range, o: Options): CreateExportInput {
  const ids = datastreams.map((d) => d.id);
  const input: CreateExportInput = {
    startTime: range.start,
    endTime: range.end,
    format: o.format,
    schema: o.schema,
    keepPartial: o.keepPartial,
  };
  if (ids.length === 1) input.datastreamId = ids[0];
  else {
    input.datastreamIds = ids;
    input.layout = o.layout;
  }
  if (o.compression) input.compression = o.compression;
  const columns = o.columns.split(",").map((c) => c.trim()).filter(Boolean);
  if (columns.length) input.columns = columns;
  if (o.limit.trim()) input.limit = Number(o.limit);
  if (o.split) input.split = { by: o.split };
  if (o.timezone.trim()) input.timezone = o.timezone.trim();
  if (o.idempotencyKey.trim()) input.idempotencyKey = o.idempotencyKey.trim();
  return input;
}

/** A name may stand for several schemas (the built-in `normalized`: one per stream category);
 * the gateway picks the one of the datastream's category. */
function byName(schemas: SchemaChoice[]): [string, SchemaChoice[]][] {
  const names = new Map<string, SchemaChoice[]>();
  for (const schema of schemas) names.set(schema.name, [...(names.get(schema.name) ?? []), schema]);
  return [...names];
}

function Problems({ errors }: { errors: readonly UserError[] }) {
  if (!errors.length) return null;
  return (
    <ul class="problems" role="alert">
      {errors.map((e) => (
        <li>
          <code>{e.code}</code> {e.field.length ? <code>{e.field.join(".")}</code> : null} {e.message}
        </li>
      ))}
    </ul>
  );
}

export function ExportForm({ datastreams, range, onRange, schemas, onCreated }: Props) {
  const [options, setOptions] = useState<Options>(DEFAULTS);
  const [estimate, setEstimate] = useState<{ key: string; result: Estimate } | null>(null);
  const [failure, setFailure] = useState("");
  const [created, setCreated] = useState<{ id: string } | null>(null);
  const [submitErrors, setSubmitErrors] = useState<UserError[]>([]);
  const [busy, setBusy] = useState(false);

  const set = <K extends keyof Options>(key: K, value: Options[K]) =>
    setOptions((o) => ({ ...o, [key]: value }));
  const ready = datastreams.length > 0 && range.start && range.end;
  const input = ready ? exportInput(datastreams, range, options) : null;
  const inputKey = JSON.stringify(input);

  useEffect(() => {
    if (!input) return;
    let live = true;
    const timer = setTimeout(() => {
      request(EstimateExportQuery, { input })
        .then((data) => {
          if (live) {
            setEstimate({ key: inputKey, result: data.estimateExport });
            setFailure("");
          }
        })
        .catch((error: Error) => live && setFailure(error.message));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [inputKey]);

  const current = estimate && estimate.key === inputKey ? estimate.result : null;
  const canSubmit = input && current && current.userErrors.length === 0 && !busy;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!input || !canSubmit) return;
    setBusy(true);
    try {
      const data = await request(CreateExportMutation, { input });
      setSubmitErrors(data.createExport.userErrors);
      const job = data.createExport.exportJob;
      if (job) {
        setCreated({ id: job.id });
        onCreated(job);
      }
    } catch (error) {
      setFailure((error as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section id="new-export">
      <h2>New export</h2>
      <form onSubmit={submit}>
        <div class="field">
          <span>Datastreams</span>
          <span data-testid="picked">
            {datastreams.length
              ? datastreams.map((d) => (
                  <span class="chip">
                    {String(d.datastreamId)} {d.exchange.code} {d.instrument.symbol} {d.streamType}
                  </span>
                ))
              : <span class="muted">tick one or more datastreams above</span>}
          </span>
        </div>
        <label class="field">
          <span>From (inclusive)</span>
          <input name="startTime" value={range.start} placeholder="2024-01-15T08:00:00Z"
            onInput={(e) => onRange({ ...range, start: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span>To (exclusive)</span>
          <input name="endTime" value={range.end} placeholder="2024-01-15T09:00:00Z"
            onInput={(e) => onRange({ ...range, end: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span>Format</span>
          <select name="format" value={options.format}
            onChange={(e) => set("format", e.currentTarget.value as ExportFormat)}>
            <option value="CSV">CSV</option>
            <option value="PARQUET">Parquet</option>
            <option value="JSONL">JSON lines</option>
          </select>
        </label>
        <label class="field">
          <span>Compression</span>
          <select name="compression" value={options.compression}
            onChange={(e) => set("compression", e.currentTarget.value as Compression | "")}>
            <option value="">default (gzip for text, none for Parquet)</option>
            <option value="NONE">none</option>
            <option value="GZIP">gzip</option>
            <option value="ZSTD">zstd</option>
          </select>
        </label>
        <label class="field">
          <span>Export schema</span>
          <select name="schema" value={options.schema} onChange={(e) => set("schema", e.currentTarget.value)}>
            {byName(schemas).map(([name, versions]) => (
              <option value={name}>
                {name} ({versions[0]!.builtin ? "built-in, " : ""}
                {versions.map((s) => s.streamCategory).join(", ")})
              </option>
            ))}
          </select>
        </label>
        {datastreams.length > 1 && (
          <label class="field">
            <span>Layout</span>
            <select name="layout" value={options.layout}
              onChange={(e) => set("layout", e.currentTarget.value as ExportLayout)}>
              <option value="LONG">long (rows of all streams merged by time)</option>
              <option value="WIDE">wide (one row per time, columns per stream)</option>
            </select>
          </label>
        )}
        <label class="field">
          <span>Columns</span>
          <input name="columns" value={options.columns} placeholder="all; or price, amount, …"
            onInput={(e) => set("columns", e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Row limit</span>
          <input name="limit" type="number" min="1" value={options.limit} placeholder="none"
            onInput={(e) => set("limit", e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Split files by</span>
          <select name="split" value={options.split}
            onChange={(e) => set("split", e.currentTarget.value as SplitPeriod | "")}>
            <option value="">one file</option>
            <option value="HOUR">hour</option>
            <option value="DAY">day</option>
            <option value="WEEK">week</option>
            <option value="MONTH">month</option>
          </select>
        </label>
        <label class="field">
          <span>Time zone</span>
          <input name="timezone" value={options.timezone} placeholder="UTC"
            onInput={(e) => set("timezone", e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Idempotency key</span>
          <input name="idempotencyKey" value={options.idempotencyKey} placeholder="optional"
            onInput={(e) => set("idempotencyKey", e.currentTarget.value)} />
        </label>
        <label class="field checkbox">
          <span>Keep partial files</span>
          <input name="keepPartial" type="checkbox" checked={options.keepPartial}
            onChange={(e) => set("keepPartial", e.currentTarget.checked)} />
        </label>

        <div class="estimate" data-testid="estimate" aria-live="polite">
          {!input ? null : current ? (
            current.userErrors.length ? (
              <Problems errors={current.userErrors} />
            ) : (
              <span>
                Estimate: <b data-testid="estimated-rows">{count(current.estimatedRows)}</b> rows,{" "}
                <b>{bytes(current.estimatedBytes)}</b> ({count(current.recordsInRange)} records in range,{" "}
                {count(current.sampledRecords)} sampled)
              </span>
            )
          ) : (
            <span class="muted">estimating…</span>
          )}
        </div>
        {failure && <p class="error" role="alert">{failure}</p>}
        <Problems errors={submitErrors} />
        <button type="submit" disabled={!canSubmit}>Create export</button>
        {created && <span class="muted"> created {created.id}</span>}
      </form>
    </section>
  );
}
