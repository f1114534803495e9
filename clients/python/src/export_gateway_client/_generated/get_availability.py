from typing import Annotated, Optional

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import (
    parse_long,
    parse_timestamp,
)

from .base_model import BaseModel


class GetAvailability(BaseModel):
    availability: Optional["GetAvailabilityAvailability"]


class GetAvailabilityAvailability(BaseModel):
    datastream_id: str = Field(alias="datastreamId")
    ranges: list["GetAvailabilityAvailabilityRanges"]
    updated_at: Optional[Annotated[int, BeforeValidator(parse_timestamp)]] = Field(
        alias="updatedAt"
    )


class GetAvailabilityAvailabilityRanges(BaseModel):
    from_time: Annotated[int, BeforeValidator(parse_timestamp)] = Field(
        alias="fromTime"
    )
    to_time: Annotated[int, BeforeValidator(parse_timestamp)] = Field(alias="toTime")
    row_count: Annotated[int, BeforeValidator(parse_long)] = Field(alias="rowCount")


GetAvailability.model_rebuild()
GetAvailabilityAvailability.model_rebuild()
