"""A local exchange feed that speaks Binance's and Bybit's public websocket protocols and
replays the demo generators' wire messages in real time: for `make run` (subscribe to a demo
datastream and watch its data arrive, without internet) and for the tests.

- `/stream`: Binance's combined streams. `{"method": "SUBSCRIBE", "params": ["btcusdt@trade"],
  "id": 1}` is answered `{"result": null, "id": 1}`, then records come as
  `{"stream": "btcusdt@trade", "data": {...}}` (`<symbol>@trade`, `<symbol>@depth@100ms`).
  Websocket pings keep the connection alive, as Binance's do.
- `/v5/public/<market>`: Bybit v5. `{"op": "subscribe", "args": ["publicTrade.BTCUSDT"]}`
  (or `orderbook.50.BTCUSDT`) is acknowledged with `"success": true`, an unknown topic with
  `"success": false`; `{"op": "ping"}` gets a pong.

The feed remembers what it sent (per stream, with the time) and counts connections, and
`drop()` closes every connection, so tests can check what was collected against what was
sent, and that a dropped connection comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from app.demo.books import binance_book, bybit_book
from app.demo.trades import binance_trades, bybit_trades
from app.domain.catalog import DatastreamSpec

Generator = Callable[[DatastreamSpec, int, int, int], Iterator[tuple[int, str]]]
SYMBOLS = ("BTCUSDT", "ETHUSDT")
DAY_NS = 86_400 * 10**9


@dataclass
class Sent:
    at_ns: int
    text: str


@dataclass
class ExchangeFeed:
    """State shared by every connection: what was sent, and who is connected."""

    port: int = 0
    sent: dict[str, list[Sent]] = field(default_factory=dict)
    connections: Counter[str] = field(default_factory=Counter)
    open: set[ServerConnection] = field(default_factory=set)
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def drop(self) -> None:
        """Close every connection, as an exchange does at its 24-hour limit or on a fault."""
        for connection in list(self.open):
            await connection.close(code=1001, reason="going away")

    async def handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        self.open.add(connection)
        try:
            if path.startswith("/stream"):
                await self._binance(connection)
            elif path.startswith("/v5/public/"):
                await self._bybit(connection, path.rsplit("/", 1)[-1])
            else:
                await connection.close(code=1008, reason="unknown path")
        except ConnectionClosed:
            pass
        finally:
            self.open.discard(connection)

    async def _binance(self, connection: ServerConnection) -> None:
        streaming: list[asyncio.Task[None]] = []
        try:
            async for frame in connection:
                request = json.loads(frame)
                names = request.get("params") or []
                feeds = [_binance_generator(name) for name in names]
                if request.get("method") != "SUBSCRIBE" or None in feeds:
                    error = {"code": 2, "msg": f"Invalid request: {names!r}"[:200]}
                    await connection.send(json.dumps({"error": error, "id": request.get("id")}))
                    continue
                await connection.send(json.dumps({"result": None, "id": request.get("id")}))
                for name, generate in zip(names, feeds, strict=True):
                    assert generate is not None
                    streaming.append(asyncio.create_task(self._stream(connection, name, generate)))
        finally:
            for task in streaming:
                task.cancel()

    async def _bybit(self, connection: ServerConnection, market: str) -> None:
        conn_id = secrets.token_hex(8)
        streaming: list[asyncio.Task[None]] = []
        try:
            async for frame in connection:
                request = json.loads(frame)
                op = request.get("op")
                if op == "ping":
                    pong = {"success": True, "ret_msg": "pong", "conn_id": conn_id, "op": "ping"}
                    await connection.send(json.dumps(pong))
                    continue
                topics = request.get("args") or []
                feeds = [_bybit_generator(topic, market) for topic in topics]
                ok = op == "subscribe" and None not in feeds
                answer = {
                    "success": ok,
                    "ret_msg": "" if ok else f"error:handler not found,topic:{topics}",
                    "conn_id": conn_id,
                    "op": op,
                }
                await connection.send(json.dumps(answer))
                if ok:
                    for topic, generate in zip(topics, feeds, strict=True):
                        assert generate is not None
                        streaming.append(
                            asyncio.create_task(self._stream(connection, topic, generate))
                        )
        finally:
            for task in streaming:
                task.cancel()

    async def _stream(
        self,
        connection: ServerConnection,
        name: str,
        generate: Callable[[int], Iterator[tuple[int, str]]],
    ) -> None:
        """Send the generator's messages at their times, starting now."""
        self.connections[name] += 1
        log = self.sent.setdefault(name, [])
        for ts, message in generate(time.time_ns()):
            delay = (ts - time.time_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            await connection.send(message)
            log.append(Sent(time.time_ns(), message))


def _spec(exchange: str, symbol: str, market: str, stream_type: str, wire: str) -> DatastreamSpec:
    return DatastreamSpec(
        0, exchange, exchange.title(), symbol, symbol[:3], "USDT", market, stream_type, wire
    )


def _from(generator: Generator, spec: DatastreamSpec) -> Callable[[int], Iterator[tuple[int, str]]]:
    seed = secrets.randbelow(2**31)
    return lambda start: generator(spec, start, start + DAY_NS, seed)


def _binance_generator(stream: str) -> Callable[[int], Iterator[tuple[int, str]]] | None:
    symbol, _, kind = stream.partition("@")
    if symbol.upper() not in SYMBOLS:
        return None
    if kind == "trade":
        return _from(
            binance_trades, _spec("binance", symbol.upper(), "spot", "trades", "binance.trade")
        )
    if kind == "depth@100ms":
        return _from(
            binance_book, _spec("binance", symbol.upper(), "spot", "book", "binance.depthUpdate")
        )
    return None


def _bybit_generator(topic: str, market: str) -> Callable[[int], Iterator[tuple[int, str]]] | None:
    kind, _, symbol = topic.rpartition(".")
    if symbol not in SYMBOLS or market not in ("linear", "spot"):
        return None
    if kind == "publicTrade":
        return _from(bybit_trades, _spec("bybit", symbol, market, "trades", "bybit.publicTrade"))
    if kind == "orderbook.50":
        return _from(bybit_book, _spec("bybit", symbol, market, "book", "bybit.orderbook"))
    return None


@contextlib.asynccontextmanager
async def exchange_feed(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[ExchangeFeed]:
    """The feed, listening until the block ends (port 0: any free one, see `.port`)."""
    feed = ExchangeFeed()
    async with serve(feed.handle, host, port, ping_interval=20) as server:
        feed.server = server
        feed.port = next(iter(server.sockets)).getsockname()[1]
        yield feed
