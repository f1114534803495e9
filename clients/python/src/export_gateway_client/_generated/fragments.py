from typing import Annotated, Optional

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import (
    parse_long,
    parse_timestamp,
)

from .base_model import BaseModel
from .enums import Compression, ExportFormat, ExportStatus, UserErrorCode


class ExportArtifactFields(BaseModel):
    filename: str
    url: str
    expires_at: Annotated[int, BeforeValidator(parse_timestamp)] = Field(
        alias="expiresAt"
    )
    byte_size: Annotated[int, BeforeValidator(parse_long)] = Field(alias="byteSize")
    row_count: Annotated[int, BeforeValidator(parse_long)] = Field(alias="rowCount")
    sha_256: str = Field(alias="sha256")
    content_type: str = Field(alias="contentType")
    partial: bool


class ExportJobFields(BaseModel):
    id: str
    status: ExportStatus
    reason: Optional[str]
    datastream_id: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="datastreamId"
    )
    datastream_ids: list[Annotated[int, BeforeValidator(parse_long)]] = Field(
        alias="datastreamIds"
    )
    format: ExportFormat
    compression: Compression
    schema_: "ExportJobFieldsSchema" = Field(alias="schema")
    start_time: Annotated[int, BeforeValidator(parse_timestamp)] = Field(
        alias="startTime"
    )
    end_time: Annotated[int, BeforeValidator(parse_timestamp)] = Field(alias="endTime")
    created_at: Annotated[int, BeforeValidator(parse_timestamp)] = Field(
        alias="createdAt"
    )
    started_at: Optional[Annotated[int, BeforeValidator(parse_timestamp)]] = Field(
        alias="startedAt"
    )
    finished_at: Optional[Annotated[int, BeforeValidator(parse_timestamp)]] = Field(
        alias="finishedAt"
    )
    expires_at: Optional[Annotated[int, BeforeValidator(parse_timestamp)]] = Field(
        alias="expiresAt"
    )
    idempotency_key: Optional[str] = Field(alias="idempotencyKey")
    attempts: int
    keep_partial: bool = Field(alias="keepPartial")
    progress: "ExportJobFieldsProgress"
    artifacts: list["ExportJobFieldsArtifacts"]


class ExportJobFieldsSchema(BaseModel):
    name: str
    id: Optional[str]
    version: Optional[int]
    columns: list[str]


class ExportJobFieldsProgress(BaseModel):
    rows_written: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="rowsWritten"
    )
    bytes_written: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="bytesWritten"
    )
    estimated_rows: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="estimatedRows"
    )


class ExportJobFieldsArtifacts(ExportArtifactFields):
    pass


class PageInfoFields(BaseModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: Optional[str] = Field(alias="endCursor")


class UserErrorFields(BaseModel):
    code: UserErrorCode
    field: list[str]
    message: str
    retry_after: Optional[float] = Field(alias="retryAfter")


ExportArtifactFields.model_rebuild()
ExportJobFields.model_rebuild()
PageInfoFields.model_rebuild()
UserErrorFields.model_rebuild()
