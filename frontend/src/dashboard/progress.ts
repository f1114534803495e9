// How far a job is and how long it has left, for the progress bar and the ETA column: the
// gateway's own numbers (records read of the records in range, and its rate since the job
// started), kept in one place should the page ever compute them differently.
import type { ExportJobFieldsFragment } from "../gql/graphql";

export type JobProgress = { fraction: number; etaSeconds: number | null };

/** A full bar means done: a job that has read everything but is still publishing its files
 * shows 99 %. */
export function jobProgress(job: ExportJobFieldsFragment): JobProgress {
  const fraction = Math.min(Math.max(job.progress.fraction, 0), 1);
  return {
    fraction: job.status === "SUCCEEDED" ? 1 : Math.min(fraction, 0.99),
    etaSeconds: job.progress.etaSeconds ?? null,
  };
}
