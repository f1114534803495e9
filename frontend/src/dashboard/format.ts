// Display helpers. Long values arrive as JSON numbers or strings: they are read with
// Number(), exact for anything a dashboard shows (below 2^53).
export type Long = string | number;

export function num(value: Long | null | undefined): number {
  return value == null ? 0 : Number(value);
}

export function count(value: Long): string {
  return num(value).toLocaleString("en-US");
}

export function bytes(value: Long): string {
  let n = num(value);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`;
}

/** Milliseconds since the epoch of a nanosecond ISO-8601 timestamp (digits past ms dropped). */
export function millis(timestamp: string): number {
  return Date.parse(timestamp.replace(/(\.\d{3})\d*Z$/, "$1Z"));
}

/** `2024-01-15 08:00:00` (UTC), short for tables. */
export function shortTime(timestamp: string | null | undefined): string {
  if (!timestamp) return "";
  return timestamp.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

export function duration(seconds: number | null): string {
  if (seconds == null || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
