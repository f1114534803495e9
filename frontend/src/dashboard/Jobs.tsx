// The workspace's export jobs, kept live by the exportJobsUpdated subscription: progress
// bars with an ETA, cancel and delete, download links once files exist.
import { useEffect, useState } from "preact/hooks";
import type { ExportJobFieldsFragment } from "../gql/graphql";
import { onConnectionChange, request, subscribe, type UserError } from "./api";
import { bytes, count, duration, num, shortTime } from "./format";
import { jobProgress, type JobProgress } from "./progress";
import {
  CancelExportMutation,
  DeleteExportMutation,
  ExportJobsQuery,
  ExportJobsUpdatedSubscription,
} from "./operations";

type Row = { job: ExportJobFieldsFragment; progress: JobProgress };
const ACTIVE = new Set(["QUEUED", "RUNNING"]);

type Props = {
  session: number;
  created: ExportJobFieldsFragment | null; // a job this page just created
  onError: (message: string) => void;
};

export function Jobs({ session, created, onError }: Props) {
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [live, setLive] = useState(false);

  // Of two states of a job, the higher revision is the newer (a resumed subscription may
  // send one again).
  const upsert = (job: ExportJobFieldsFragment) =>
    setRows((current) => {
      const known = current.get(job.id);
      if (known && num(known.job.revision) > num(job.revision)) return current;
      const next = new Map(current);
      if (job.status === "DELETED") next.delete(job.id);
      else next.set(job.id, { job, progress: jobProgress(job) });
      return next;
    });
  const remove = (id: string) =>
    setRows((current) => {
      const next = new Map(current);
      next.delete(id);
      return next;
    });

  useEffect(() => {
    let open = true;
    let latest: string | null = null; // the greatest updatedAt seen: where to resume from
    let stop = () => {};
    const seen = (job: ExportJobFieldsFragment) => {
      if (latest === null || job.updatedAt > latest) latest = job.updatedAt; // same-width ISO
      upsert(job);
    };
    const reload = () =>
      request(ExportJobsQuery, { first: 50 })
        .then((data) => open && data.exportJobs.edges.forEach((e) => seen(e.node)))
        .catch((error: Error) => open && onError(error.message));
    // Followed from the last change seen whenever the connection drops (or the gateway ends
    // the subscription, as it does when it stops), so nothing that happened meanwhile (a job
    // deleted, say) is missed; after a pause that grows to five seconds.
    let retry: ReturnType<typeof setTimeout> | undefined;
    const follow = (since: string | null, attempt = 0) => {
      stop();
      const again = () => {
        if (open) retry = setTimeout(() => follow(latest, attempt + 1), Math.min(500 * 2 ** attempt, 5000));
      };
      stop = subscribe(
        ExportJobsUpdatedSubscription,
        { since },
        (data) => {
          attempt = 0;
          seen(data.exportJobsUpdated);
        },
        (error) => {
          if (!open) return;
          if (error.code === undefined) again(); // the connection, not the request
          else if (since !== null && error.code === "INVALID_ARGUMENT") {
            // Away for longer than the gateway remembers changes: start over.
            setRows(new Map());
            void reload();
            follow(null);
          } else onError(`job updates: ${error.message}`);
        },
        again,
      );
    };
    setRows(new Map());
    void reload();
    follow(null);
    const unlisten = onConnectionChange(setLive);
    return () => {
      open = false;
      clearTimeout(retry);
      unlisten();
      stop();
    };
  }, [session]);

  useEffect(() => {
    if (created) upsert(created);
  }, [created]);

  const report = (errors: readonly UserError[]) => {
    if (errors.length) onError(errors.map((e) => `${e.code}: ${e.message}`).join("; "));
  };
  const cancel = (id: string) =>
    request(CancelExportMutation, { id })
      .then((data) => {
        report(data.cancelExport.userErrors);
        if (data.cancelExport.exportJob) upsert(data.cancelExport.exportJob);
      })
      .catch((error: Error) => onError(error.message));
  const destroy = (id: string) =>
    request(DeleteExportMutation, { id })
      .then((data) => {
        report(data.deleteExport.userErrors);
        if (data.deleteExport.deletedId) remove(data.deleteExport.deletedId);
      })
      .catch((error: Error) => onError(error.message));

  const sorted = [...rows.values()].sort((a, b) => b.job.createdAt.localeCompare(a.job.createdAt));
  return (
    <section id="jobs">
      <h2>
        Export jobs <small class={live ? "live" : "muted"}>{live ? "● live" : "○ connecting"}</small>
      </h2>
      <table class="jobs">
        <thead>
          <tr>
            <th>job</th>
            <th>created (UTC)</th>
            <th>datastreams</th>
            <th>range (UTC)</th>
            <th>format</th>
            <th>status</th>
            <th>progress</th>
            <th>ETA</th>
            <th>files</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {sorted.map(({ job, progress }) => {
            const percent = Math.floor(progress.fraction * 100); // 100 only once it succeeded
            return (
              <tr data-job={job.id} data-status={job.status}>
                <td><code title={job.id}>{job.id.slice(0, 12)}…</code></td>
                <td>{shortTime(job.createdAt)}</td>
                <td>{job.datastreamIds.map(String).join(", ")}</td>
                <td>{shortTime(job.startTime)} – {shortTime(job.endTime)}</td>
                <td>
                  {job.format.toLowerCase()}
                  {job.compression !== "NONE" ? ` · ${job.compression.toLowerCase()}` : ""}
                  <br />
                  <small>{job.schema.name}{job.schema.version ? ` v${job.schema.version}` : ""}</small>
                </td>
                <td>
                  <span class={`status ${job.status.toLowerCase()}`}>{job.status}</span>
                  {job.reason && <div class="reason">{job.reason}</div>}
                </td>
                <td>
                  <div class="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
                    <div style={{ width: `${percent}%` }} />
                    <span>{percent} %</span>
                  </div>
                  <small title="input records read of those in range; output rows and bytes written">
                    {count(job.progress.recordsRead)} / {count(job.progress.recordsTotal)} records
                    <br />
                    {count(job.progress.rowsWritten)} rows · {bytes(job.progress.bytesWritten)}
                  </small>
                </td>
                <td>{ACTIVE.has(job.status) ? duration(progress.etaSeconds) : ""}</td>
                <td>
                  {job.artifacts.map((a) => (
                    <div>
                      <a href={a.url} download={a.filename}>{a.filename}</a>{" "}
                      <small>
                        {bytes(a.byteSize)}, {count(a.rowCount)} rows{a.partial ? ", partial" : ""}
                      </small>
                    </div>
                  ))}
                </td>
                <td class="actions">
                  {ACTIVE.has(job.status) && (
                    <button type="button" onClick={() => cancel(job.id)}>Cancel</button>
                  )}
                  <button type="button" class="danger" onClick={() => destroy(job.id)}>Delete</button>
                </td>
              </tr>
            );
          })}
          {!sorted.length && (
            <tr><td colSpan={10} class="muted">no export jobs yet</td></tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
