// How far a job is and how long it has left, for the progress bar and the ETA column.
import type { ExportJobFieldsFragment } from "../gql/graphql";
import { num } from "./format";

export type JobProgress = { fraction: number; etaSeconds: number | null };

const FINISHED = new Set(["SUCCEEDED", "FAILED", "CANCELED", "EXPIRED", "DELETED"]);

// The first progress seen of each running job: the rate since then gives the ETA.
const firstSeen = new Map<string, { at: number; rows: number }>();

/** Rows written against the estimate (clamped: the estimate is a sample's), done at 1. */
export function jobProgress(job: ExportJobFieldsFragment, now = Date.now()): JobProgress {
  if (job.status === "SUCCEEDED") return { fraction: 1, etaSeconds: 0 };
  const rows = num(job.progress.rowsWritten);
  const estimated = num(job.progress.estimatedRows);
  const fraction = estimated > 0 ? Math.min(rows / estimated, 0.99) : 0;
  if (FINISHED.has(job.status) || job.status !== "RUNNING") {
    firstSeen.delete(job.id);
    return { fraction, etaSeconds: null };
  }
  const first = firstSeen.get(job.id);
  if (!first) {
    firstSeen.set(job.id, { at: now, rows });
    return { fraction, etaSeconds: null };
  }
  const rate = (rows - first.rows) / ((now - first.at) / 1000);
  const etaSeconds = rate > 0 && estimated > rows ? (estimated - rows) / rate : null;
  return { fraction, etaSeconds };
}
