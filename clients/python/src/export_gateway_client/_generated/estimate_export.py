from typing import Annotated

from pydantic import BeforeValidator, Field

from export_gateway_client.scalars import parse_long

from .base_model import BaseModel
from .fragments import UserErrorFields


class EstimateExport(BaseModel):
    estimate_export: "EstimateExportEstimateExport" = Field(alias="estimateExport")


class EstimateExportEstimateExport(BaseModel):
    estimated_rows: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="estimatedRows"
    )
    estimated_bytes: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="estimatedBytes"
    )
    records_in_range: Annotated[int, BeforeValidator(parse_long)] = Field(
        alias="recordsInRange"
    )
    sampled_records: int = Field(alias="sampledRecords")
    user_errors: list["EstimateExportEstimateExportUserErrors"] = Field(
        alias="userErrors"
    )


EstimateExportEstimateExportUserErrors = UserErrorFields
EstimateExport.model_rebuild()
EstimateExportEstimateExport.model_rebuild()
