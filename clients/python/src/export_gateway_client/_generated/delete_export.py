from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .fragments import UserErrorFields


class DeleteExport(BaseModel):
    delete_export: "DeleteExportDeleteExport" = Field(alias="deleteExport")


class DeleteExportDeleteExport(BaseModel):
    deleted_id: Optional[str] = Field(alias="deletedId")
    user_errors: list["DeleteExportDeleteExportUserErrors"] = Field(alias="userErrors")


DeleteExportDeleteExportUserErrors = UserErrorFields
DeleteExport.model_rebuild()
DeleteExportDeleteExport.model_rebuild()
