from typing import Annotated, Optional

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import parse_long

from .base_model import BaseModel
from .fragments import PageInfoFields


class ListDatastreams(BaseModel):
    datastreams: "ListDatastreamsDatastreams"


class ListDatastreamsDatastreams(BaseModel):
    total_count: Annotated[int, BeforeValidator(parse_long)] = Field(alias="totalCount")
    edges: list["ListDatastreamsDatastreamsEdges"]
    page_info: "ListDatastreamsDatastreamsPageInfo" = Field(alias="pageInfo")


class ListDatastreamsDatastreamsEdges(BaseModel):
    cursor: str
    node: "ListDatastreamsDatastreamsEdgesNode"


class ListDatastreamsDatastreamsEdgesNode(BaseModel):
    id: str
    datastream_id: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="datastreamId"
    )
    exchange: "ListDatastreamsDatastreamsEdgesNodeExchange"
    instrument: "ListDatastreamsDatastreamsEdgesNodeInstrument"
    stream_type: str = Field(alias="streamType")
    wire_format: str = Field(alias="wireFormat")
    source: Optional[str]


class ListDatastreamsDatastreamsEdgesNodeExchange(BaseModel):
    code: str


class ListDatastreamsDatastreamsEdgesNodeInstrument(BaseModel):
    id: str
    symbol: str
    type_: str = Field(alias="type")
    archived: bool


ListDatastreamsDatastreamsPageInfo = PageInfoFields
ListDatastreams.model_rebuild()
ListDatastreamsDatastreams.model_rebuild()
ListDatastreamsDatastreamsEdges.model_rebuild()
ListDatastreamsDatastreamsEdgesNode.model_rebuild()
