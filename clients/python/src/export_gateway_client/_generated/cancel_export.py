from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import ExportJobFields, UserErrorFields


class CancelExport(BaseModel):
    cancel_export: "CancelExportCancelExport" = Field(alias="cancelExport")


class CancelExportCancelExport(BaseModel):
    export_job: Optional["CancelExportCancelExportExportJob"] = Field(alias="exportJob")
    user_errors: list["CancelExportCancelExportUserErrors"] = Field(alias="userErrors")


CancelExportCancelExportExportJob = ExportJobFields
CancelExportCancelExportUserErrors = UserErrorFields
CancelExport.model_rebuild()
CancelExportCancelExport.model_rebuild()
