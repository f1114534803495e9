from pydantic import Field

from .base_model import BaseModel
from .fragments import ExportJobFields


class ExportJobUpdated(BaseModel):
    export_job_updated: "ExportJobUpdatedExportJobUpdated" = Field(
        alias="exportJobUpdated"
    )


ExportJobUpdatedExportJobUpdated = ExportJobFields
ExportJobUpdated.model_rebuild()
