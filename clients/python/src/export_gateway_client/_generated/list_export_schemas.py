from typing import Annotated, Optional

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import parse_long

from .base_model import BaseModel
from .fragments import PageInfoFields


class ListExportSchemas(BaseModel):
    export_schemas: "ListExportSchemasExportSchemas" = Field(alias="exportSchemas")


class ListExportSchemasExportSchemas(BaseModel):
    total_count: Annotated[int, BeforeValidator(parse_long)] = Field(alias="totalCount")
    edges: list["ListExportSchemasExportSchemasEdges"]
    page_info: "ListExportSchemasExportSchemasPageInfo" = Field(alias="pageInfo")


class ListExportSchemasExportSchemasEdges(BaseModel):
    cursor: str
    node: "ListExportSchemasExportSchemasEdgesNode"


class ListExportSchemasExportSchemasEdgesNode(BaseModel):
    id: Optional[str]
    name: str
    description: str
    stream_category: str = Field(alias="streamCategory")
    builtin: bool
    version: Optional[int]
    columns: list[str]
    exchanges: list[str]


ListExportSchemasExportSchemasPageInfo = PageInfoFields
ListExportSchemas.model_rebuild()
ListExportSchemasExportSchemas.model_rebuild()
ListExportSchemasExportSchemasEdges.model_rebuild()
