"""Shared shorthands for the transform tests (not a test module)."""

import decimal

import pyarrow as pa

D = decimal.Decimal
DEC = pa.decimal128(38, 18)  # what arithmetic on decimal text gives
BOOL = pa.bool_()
