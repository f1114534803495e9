from typing import Annotated

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import parse_long

from .base_model import BaseModel
from .fragments import ExportJobFields, PageInfoFields


class ListExportJobs(BaseModel):
    export_jobs: "ListExportJobsExportJobs" = Field(alias="exportJobs")


class ListExportJobsExportJobs(BaseModel):
    total_count: Annotated[int, BeforeValidator(parse_long)] = Field(alias="totalCount")
    edges: list["ListExportJobsExportJobsEdges"]
    page_info: "ListExportJobsExportJobsPageInfo" = Field(alias="pageInfo")


class ListExportJobsExportJobsEdges(BaseModel):
    cursor: str
    node: "ListExportJobsExportJobsEdgesNode"


ListExportJobsExportJobsEdgesNode = ExportJobFields
ListExportJobsExportJobsPageInfo = PageInfoFields
ListExportJobs.model_rebuild()
ListExportJobsExportJobs.model_rebuild()
ListExportJobsExportJobsEdges.model_rebuild()
