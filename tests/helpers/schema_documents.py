"""Export schema GraphQL documents and definitions shared by the API and end-to-end tests."""

from __future__ import annotations

from typing import Any

SCHEMA_FIELDS = """id name version streamCategory columns builtin
  draft { definition { columns { outputColumn } } }
  versions { version definition { columns { outputColumn } } }"""


def schema_mutation(name: str, input_type: str) -> str:
    return f"""mutation($input: {input_type}!) {{ {name}(input: $input) {{
      exportSchema {{ {SCHEMA_FIELDS} }} userErrors {{ code field message }} }} }}"""


CREATE_SCHEMA = schema_mutation("createExportSchema", "CreateExportSchemaInput")
DRAFT = schema_mutation("createExportSchemaDraft", "ExportSchemaIdInput")
UPDATE_DRAFT = schema_mutation("updateExportSchemaDraft", "UpdateExportSchemaDraftInput")
PUBLISH = schema_mutation("publishExportSchemaDraft", "ExportSchemaIdInput")
DISCARD = schema_mutation("discardExportSchemaDraft", "ExportSchemaIdInput")
RENAME = schema_mutation("renameExportSchema", "RenameExportSchemaInput")
PREVIEW = """query($ds: ID!, $schema: String, $inline: ExportSchemaDefinitionInput, $limit: Int!) {
  previewExportSchema(datastreamId: $ds, schema: $schema, inlineSchema: $inline, limit: $limit) {
    columns { name type } rows userErrors { code field message } } }"""

# The reference API's example mappings: Binance spot and Bybit linear trades, side as the
# taker's side, Bybit's trade arrays unfolded into one row per trade.
TRADE_SCHEMA: dict[str, Any] = {
    "streamCategory": "trade",
    "description": "Trades with the taker's side",
    "sources": [{"source": "bybit_linear", "unfold": [{"path": "data"}]}],
    "columns": [
        {"outputColumn": "ts", "meta": "collection_timestamp_ns", "format": "ns"},
        {
            "outputColumn": "price",
            "data": [
                {"source": "binance", "path": "data.p", "type": "decimal(8)"},
                {"source": "bybit_linear", "path": "data.p", "type": "decimal(8)"},
            ],
        },
        {
            "outputColumn": "side",
            "data": [
                {
                    "source": "binance",
                    "path": "data.m",
                    "type": "bool",
                    "transform": "CASE WHEN {v} = false THEN 'buy' ELSE 'sell' END",
                },
                {
                    "source": "bybit_linear",
                    "path": "data.S",
                    "type": "string",
                    "transform": "lower({v})",
                },
            ],
        },
    ],
}

# A second version of TRADE_SCHEMA: one column more.
V2_COLUMNS = [
    *TRADE_SCHEMA["columns"],
    {"outputColumn": "when", "meta": "collection_timestamp_ns", "format": "iso"},
]

NORMALIZED_TRADE_COLUMNS = [
    "collection_timestamp_ns",
    "exchange_timestamp_ns",
    "exchange",
    "symbol",
    "trade_id",
    "side",
    "price",
    "amount",
]
