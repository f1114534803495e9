"""How to collect each wire format from its exchange: the websocket URL, the frames that
subscribe, the heartbeat the exchange expects, and which frames are records (stored exactly
as received) rather than acknowledgements or pongs.

- Binance spot (`binance.trade`, `binance.depthUpdate`): the combined-stream endpoint
  `/stream`, a `SUBSCRIBE` frame for `<symbol>@trade` or `<symbol>@depth@100ms`; records are
  `{"stream": ..., "data": {...}}`. Binance sends websocket pings, which the client answers;
  it closes every connection after 24 hours.
- Bybit v5 public (`bybit.publicTrade`, `bybit.orderbook`): `/v5/public/<market>`, an
  `{"op": "subscribe"}` frame for `publicTrade.<SYMBOL>` or `orderbook.50.<SYMBOL>`, and an
  `{"op": "ping"}` text frame every 20 seconds; records carry a `topic`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from app.config import Settings
from app.domain.collection.leases import Feed


class UnknownFeed(ValueError):
    """No connector for this wire format (or market): the subscription cannot be served."""


@dataclass(frozen=True)
class Connector:
    url: str
    subscribe: list[str]  # text frames sent once connected
    heartbeat: str | None  # a text frame the exchange wants regularly, if any
    heartbeat_seconds: float
    is_record: Callable[[str], bool]
    refusal: Callable[[str], str | None]  # a frame that says the subscription was refused


def connector_for(feed: Feed, settings: Settings) -> Connector:
    exchange, wire = feed.exchange, feed.wire_format
    if wire in ("binance.trade", "binance.depthUpdate"):
        stream = feed.symbol.lower() + ("@trade" if wire == "binance.trade" else "@depth@100ms")
        frame = {"method": "SUBSCRIBE", "params": [stream], "id": 1}
        return Connector(
            url=settings.binance_ws_url.rstrip("/") + "/stream",
            subscribe=[json.dumps(frame)],
            heartbeat=None,
            heartbeat_seconds=0,
            is_record=lambda text: text.startswith('{"stream"'),
            refusal=_binance_refusal,
        )
    if wire in ("bybit.publicTrade", "bybit.orderbook"):
        if feed.market not in ("spot", "linear", "inverse"):
            raise UnknownFeed(f"Bybit has no public {feed.market!r} market")
        topic = ("publicTrade." if wire == "bybit.publicTrade" else "orderbook.50.") + feed.symbol
        return Connector(
            url=f"{settings.bybit_ws_url.rstrip('/')}/{feed.market}",
            subscribe=[json.dumps({"op": "subscribe", "args": [topic]})],
            heartbeat=json.dumps({"op": "ping"}),
            heartbeat_seconds=20.0,
            is_record=lambda text: '"topic"' in text[:64],
            refusal=_bybit_refusal,
        )
    raise UnknownFeed(
        f"no live connector for wire format {wire!r} of {exchange!r}: known are "
        "binance.trade, binance.depthUpdate, bybit.publicTrade, bybit.orderbook"
    )


def _binance_refusal(text: str) -> str | None:
    if text.startswith('{"error"') or '"code"' in text[:40]:
        return f"Binance refused the subscription: {text[:300]}"
    return None


def _bybit_refusal(text: str) -> str | None:
    if '"op":"subscribe"' in text.replace(" ", "") and '"success":false' in text.replace(" ", ""):
        return f"Bybit refused the subscription: {text[:300]}"
    return None
