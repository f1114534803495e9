from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ExportJobFields


class GetExportJob(BaseModel):
    export_job: Optional["GetExportJobExportJob"] = Field(alias="exportJob")


GetExportJobExportJob = ExportJobFields
GetExportJob.model_rebuild()
