from pydantic import Field

from .base_model import BaseModel
from .fragments import ExportJobFields


class ExportJobsUpdated(BaseModel):
    export_jobs_updated: "ExportJobsUpdatedExportJobsUpdated" = Field(
        alias="exportJobsUpdated"
    )


ExportJobsUpdatedExportJobsUpdated = ExportJobFields
ExportJobsUpdated.model_rebuild()
