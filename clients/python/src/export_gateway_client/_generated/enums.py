from enum import Enum


class AggregateFunction(str, Enum):
    FIRST = "FIRST"
    LAST = "LAST"
    MIN = "MIN"
    MAX = "MAX"
    AVG = "AVG"
    SUM = "SUM"
    COUNT = "COUNT"
    OHLC = "OHLC"


class ColumnTransform(str, Enum):
    DELTA = "DELTA"


class Compression(str, Enum):
    NONE = "NONE"
    GZIP = "GZIP"
    ZSTD = "ZSTD"


class DecimationFill(str, Enum):
    NONE = "NONE"
    PREVIOUS = "PREVIOUS"
    NULL = "NULL"


class ExportFormat(str, Enum):
    CSV = "CSV"
    PARQUET = "PARQUET"
    JSONL = "JSONL"


class ExportJobOrder(str, Enum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"


class ExportLayout(str, Enum):
    LONG = "LONG"
    WIDE = "WIDE"


class ExportStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


class FilterOp(str, Enum):
    eq = "eq"
    ne = "ne"
    lt = "lt"
    lte = "lte"
    gt = "gt"
    gte = "gte"
    in_ = "in"
    notIn = "notIn"
    isNull = "isNull"
    contains = "contains"
    startsWith = "startsWith"


class OnError(str, Enum):
    FAIL = "FAIL"
    NULL = "NULL"


class SplitPeriod(str, Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class UserErrorCode(str, Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RATE_LIMITED = "RATE_LIMITED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
