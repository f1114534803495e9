"""No input yields a 5xx or an INTERNAL_SERVER_ERROR: generated GraphQL documents (valid and
invalid, with and without a key), and every argument of every query and mutation given
hostile values, one at a time. `make test` runs a bounded budget with fixed seeds (every
argument gets several kinds of hostile value, every kind reaches every operation);
`make fuzz` (FUZZ_BUDGET=full) gives every argument every kind and generates many more
documents."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema, get_named_type, is_input_object_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from starlette.testclient import TestClient

from app.main import create_app
from tests.api.helpers import WithoutLifespan
from tests.helpers.inprocess import MINUTE, START, Seed, copy_seed, settings_for
from workers.broker import broker

FULL = os.environ.get("FUZZ_BUDGET") == "full"
EXAMPLES = 1_000 if FULL else 15  # generated documents per case
KINDS_PER_ARGUMENT = 0 if FULL else 3  # 0: all of them
pytestmark = pytest.mark.fuzz

SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
SCHEMA: GraphQLSchema = build_schema(SDL)

# The kinds of value that once answered INTERNAL_SERVER_ERROR, and their relatives.
HOSTILE: list[Any] = [
    "²",
    "\uff11\uff12\uff13",  # full-width digits
    "9" * 25,
    "9" * 4_400,  # past Python's int() digit limit
    -(2**63) - 1,
    2**63,
    -5,
    "ds_-5",
    "ds_" + "9" * 30,
    "2024-01-15T10:00:00+99:99",
    " 2024-01-15T10:00:00Z",
    "(" * 60 + "{v}" + ")" * 60,
    "data" + "[99999999999999999999]",
    ".".join(["a"] * 100_00),
    "\x00",
    "",
    None,
    {"nested": {"deeper": [1, [2, [3]]]}},
    [],
    True,
    1e308,
]

# One valid value per argument: hostile values replace one leaf at a time.
EXPORT = {
    "datastreamId": "601",
    "startTime": START,
    "endTime": START + MINUTE,
    "schema": "normalized",
    "format": "CSV",
    "compression": "GZIP",
    "idempotencyKey": "fuzz",
    "formatOptions": {"delimiter": ";", "timestampFormat": "iso"},
    "columns": ["price", "side"],
    "limit": 10,
    "filter": {"and": [{"column": "price", "op": "gte", "value": "1.5"}]},
    "decimation": {
        "interval": "1s",
        "fill": "NONE",
        "aggregations": [{"column": "price", "fn": "OHLC"}],
    },
    "split": {"by": "HOUR", "maxRowsPerFile": 100, "maxBytesPerFile": 4096},
}
DEFINITION = {
    "streamCategory": "trade",
    "description": "fuzz",
    "sources": [{"source": "bybit_linear", "unfold": [{"path": "data", "tag": "t"}]}],
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "ns"},
        {
            "outputColumn": "price",
            "data": [
                {
                    "source": "binance",
                    "path": "data.p",
                    "type": "decimal(8)",
                    "transform": "{v} * 2",
                }
            ],
        },
    ],
}
VALID: dict[str, Any] = {
    "id": "exp_0190aaaabbbbccccddddeeeeffff0000",
    "datastreamId": "601",
    "exchange": "binance",
    "instrument": "BTCUSDT",
    "streamType": "trades",
    "streamCategory": "trade",
    "first": 5,
    "after": "MQ",
    "createdAfter": START,
    "createdBefore": START + MINUTE,
    "name": "fuzz",
    "schema": "normalized",
    "limit": 5,
    "inlineSchema": DEFINITION,
    "search": "btc",
    "type": "spot",
    "includeArchived": True,
    "resource": "INSTRUMENTS",
    "format": "CSV",
    "filter": "btc",
}
INPUTS: dict[str, Any] = {
    "CreateExportInput": EXPORT,
    "CreateExportSchemaInput": {"name": "fuzz", "definition": DEFINITION},
    "UpdateExportSchemaDraftInput": {"id": "sch_" + "0" * 32, "definition": DEFINITION},
    "RenameExportSchemaInput": {"id": "sch_" + "0" * 32, "name": "fuzz2"},
    "RegisterInstrumentInput": {
        "exchange": "fuzz",
        "exchangeDisplayName": "Fuzz",
        "symbol": "FUZZUSD",
        "base": "FUZZ",
        "quote": "USD",
        "type": "spot",
    },
    "UpdateInstrumentInput": {"id": "ins_1", "archived": False, "base": "BTC", "quote": "USDT"},
    "RegisterDatastreamInput": {
        "datastreamId": "9001",
        "instrumentId": "ins_1",
        "streamType": "trades",
        "wireFormat": "binance.trade",
        "source": "wss://fuzz",
    },
    "UpdateDatastreamInput": {"id": "601", "wireFormat": "binance.trade", "source": "wss://fuzz"},
    "ImportResourcesInput": {
        "resource": "INSTRUMENTS",
        "uploadId": "upl_" + "0" * 32,
        "format": "CSV",
        "identifierColumn": "symbol",
        "onError": "SKIP",
        "dryRun": True,
    },
}


@pytest.fixture(scope="module")
def client(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app without its workers: jobs created here stay queued."""
    settings = settings_for(copy_seed(seed, tmp_path_factory.mktemp("fuzz")))
    app = WithoutLifespan(create_app(settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    broker.flush_all()


def assert_handled(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, body


HOSTILE_SCALARS = {
    "Long": st.sampled_from(["²", "9" * 30, "-1", "0"]).map(nodes.String)
    | st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
    "Timestamp": st.sampled_from(["+99:99", "2024-13-01", "\uff12\uff10", "1" * 40]).map(
        nodes.String
    )
    | st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
    "JSON": st.sampled_from(['{"a": 1}', "[]", "null"]).map(nodes.String),
    # Not a file part of a multipart request: whatever a JSON body can say instead.
    "Upload": st.sampled_from(["", "0", "file.csv"]).map(nodes.String)
    | st.integers().map(nodes.Int),
}


@pytest.mark.parametrize("with_key", [True, False], ids=["key", "no-key"])
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "invalid"])
def test_generated_documents_never_fail_the_server(
    client: TestClient, seed: Seed, with_key: bool, mode: Mode
) -> None:
    headers = {"X-Api-Key": seed.keys["alpha"]} if with_key else {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(document=from_schema(SCHEMA, custom_scalars=HOSTILE_SCALARS, mode=mode))
    def run(document: str) -> None:
        assert_handled(client.post("/graphql", json={"query": document}, headers=headers))

    run()


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))


def _replaced(value: Any, path: tuple[Any, ...], hostile: Any) -> Any:
    if not path:
        return hostile
    result = copy.deepcopy(value)
    target = result
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = hostile
    return result


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, document, valid variables) for every query and mutation that takes arguments."""
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if not field.args:
                continue
            declared, passed, variables = [], [], {}
            for arg_name, arg in field.args.items():
                declared.append(f"${arg_name}: {arg.type}")
                passed.append(f"{arg_name}: ${arg_name}")
                named = get_named_type(arg.type)
                if is_input_object_type(named):
                    variables[arg_name] = INPUTS.get(named.name, {"id": VALID["id"]})
                elif arg_name in VALID:
                    variables[arg_name] = VALID[arg_name]
            document = (
                f"{kind}({', '.join(declared)}) {{ {name}({', '.join(passed)}) {{ __typename }} }}"
            )
            yield name, document, variables


OPERATIONS = list(_operations())


def _kinds_for(index: int) -> list[Any]:
    """The hostile values the `index`-th argument gets: a window that moves along the list,
    so that within an operation every kind is tried on some argument."""
    if not KINDS_PER_ARGUMENT:
        return HOSTILE
    start = index * KINDS_PER_ARGUMENT
    return [HOSTILE[(start + k) % len(HOSTILE)] for k in range(KINDS_PER_ARGUMENT)]


@pytest.mark.parametrize(
    ("name", "document", "variables"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_hostile_values_in_every_argument_are_typed_errors(
    client: TestClient, seed: Seed, name: str, document: str, variables: dict[str, Any]
) -> None:
    headers = {"X-Api-Key": seed.keys["alpha"]}
    paths = [p for p in _leaves(variables) if p]
    assert paths, name
    for index, path in enumerate(paths):
        for hostile in _kinds_for(index):
            given = _replaced(variables, path, hostile)
            body = json.dumps({"query": document, "variables": given})
            response = client.post(
                "/graphql", content=body, headers={**headers, "content-type": "application/json"}
            )
            assert_handled(response)
