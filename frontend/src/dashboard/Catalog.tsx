// Datastreams (by exchange, or found by instrument) with their available data on one
// shared timeline. Ticking a row picks it for the export; clicking a range takes its times.
import { useEffect, useState } from "preact/hooks";
import type { AvailabilityQuery as AvailabilityResult, DatastreamFieldsFragment } from "../gql/graphql";
import { request } from "./api";
import { count, millis, shortTime } from "./format";
import { AvailabilityQuery, CatalogQuery, InstrumentSearchQuery } from "./operations";

type Availability = NonNullable<AvailabilityResult["availability"]>;
type Exchange = { code: string; displayName: string; instrumentCount: number };

export type Range = { start: string; end: string };

type Props = {
  session: number; // a new key reloads
  selected: string[];
  onToggle: (datastream: DatastreamFieldsFragment) => void;
  onRange: (range: Range) => void;
  onDatastreams: (datastreams: DatastreamFieldsFragment[]) => void;
  onError: (message: string) => void;
};

export function Catalog({ session, selected, onToggle, onRange, onDatastreams, onError }: Props) {
  const [exchanges, setExchanges] = useState<Exchange[]>([]);
  const [exchange, setExchange] = useState("");
  const [search, setSearch] = useState("");
  const [datastreams, setDatastreams] = useState<DatastreamFieldsFragment[]>([]);
  const [availability, setAvailability] = useState<Record<string, Availability | null>>({});

  useEffect(() => {
    let live = true;
    const load = async () => {
      const catalog = await request(CatalogQuery, { exchange: exchange || null, first: 100 });
      let list = catalog.datastreams.edges.map((e) => e.node);
      if (search.trim()) {
        const found = await request(InstrumentSearchQuery, {
          exchange: exchange || null,
          search: search.trim(),
          first: 100,
        });
        list = found.instruments.edges.flatMap((e) => e.node.datastreams);
      }
      if (!live) return;
      setExchanges(catalog.exchanges.edges.map((e) => e.node));
      setDatastreams(list);
      onDatastreams(catalog.datastreams.edges.map((e) => e.node));
      const entries = await Promise.all(
        list.map(async (d) => {
          const result = await request(AvailabilityQuery, { datastreamId: d.id });
          return [d.id, result.availability ?? null] as const;
        }),
      );
      if (live) setAvailability(Object.fromEntries(entries));
    };
    load().catch((error: Error) => live && onError(error.message));
    return () => {
      live = false;
    };
  }, [session, exchange, search]);

  const ranges = Object.values(availability).flatMap((a) => a?.ranges ?? []);
  const axisStart = Math.min(...ranges.map((r) => millis(r.fromTime)));
  const axisEnd = Math.max(...ranges.map((r) => millis(r.toTime)));
  const span = axisEnd - axisStart;

  return (
    <section id="catalog">
      <h2>Datastreams</h2>
      <div class="filters">
        <label>
          Exchange{" "}
          <select value={exchange} onChange={(e) => setExchange(e.currentTarget.value)}>
            <option value="">all</option>
            {exchanges.map((x) => (
              <option value={x.code}>
                {x.displayName} ({x.instrumentCount})
              </option>
            ))}
          </select>
        </label>
        {/* Searched when the text is committed (Enter or leaving the field), not per key. */}
        <label>
          Instrument{" "}
          <input
            type="search"
            placeholder="symbol, base or quote"
            onChange={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
      </div>
      <table class="catalog">
        <thead>
          <tr>
            <th></th>
            <th>id</th>
            <th>exchange</th>
            <th>instrument</th>
            <th>stream</th>
            <th>wire format</th>
            <th class="timeline-head">
              {span > 0 ? (
                <span>
                  <span>{shortTime(new Date(axisStart).toISOString())}</span>
                  <span>{shortTime(new Date(axisEnd).toISOString())}</span>
                </span>
              ) : (
                "available data"
              )}
            </th>
          </tr>
        </thead>
        <tbody>
          {datastreams.map((d) => (
            <tr data-datastream={String(d.datastreamId)} class={selected.includes(d.id) ? "picked" : ""}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`export datastream ${d.datastreamId}`}
                  checked={selected.includes(d.id)}
                  onChange={() => onToggle(d)}
                />
              </td>
              <td>{String(d.datastreamId)}</td>
              <td>{d.exchange.displayName}</td>
              <td>
                {d.instrument.symbol} <small>{d.instrument.type}</small>
              </td>
              <td>{d.streamType}</td>
              <td>
                <code>{d.wireFormat}</code>
              </td>
              <td class="timeline">
                {(availability[d.id]?.ranges ?? []).map((r) => (
                  <button
                    type="button"
                    class="range"
                    title={`${shortTime(r.fromTime)} – ${shortTime(r.toTime)} UTC: ${count(r.rowCount)} records (click: export this range)`}
                    style={{
                      left: `${((millis(r.fromTime) - axisStart) / span) * 100}%`,
                      width: `${Math.max(((millis(r.toTime) - millis(r.fromTime)) / span) * 100, 0.5)}%`,
                    }}
                    onClick={() => onRange({ start: r.fromTime, end: r.toTime })}
                  />
                ))}
                {availability[d.id] !== undefined && !availability[d.id]?.ranges.length && (
                  <span class="muted">no data</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
