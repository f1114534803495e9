from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ExportJobFields, UserErrorFields


class CreateExport(BaseModel):
    create_export: "CreateExportCreateExport" = Field(alias="createExport")


class CreateExportCreateExport(BaseModel):
    export_job: Optional["CreateExportCreateExportExportJob"] = Field(alias="exportJob")
    user_errors: list["CreateExportCreateExportUserErrors"] = Field(alias="userErrors")


CreateExportCreateExportExportJob = ExportJobFields
CreateExportCreateExportUserErrors = UserErrorFields
CreateExport.model_rebuild()
CreateExportCreateExport.model_rebuild()
