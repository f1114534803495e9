"""GraphQL inputs of export schedules and their conversion to the domain's request."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.domain.schedules.commands import ScheduleRequest
from app.graphql.exports.inputs import ExportTemplateInput, template_request
from app.graphql.scalars import Timestamp


@strawberry.enum(description="Which missed periods a schedule exports after downtime.")
class ScheduleCatchUp(Enum):
    ALL = strawberry.enum_value("ALL", description="Every missed period, oldest first.")
    LATEST = strawberry.enum_value(
        "LATEST", description="Only the latest missed period; earlier ones are skipped."
    )


@strawberry.input(description="A recurring export: a job per period, once the period is over.")
class CreateExportScheduleInput:
    name: str = strawberry.field(description="A name to tell schedules apart (1-200 chars).")
    export: ExportTemplateInput = strawberry.field(
        description="What each period's job exports: the createExport input without its times."
    )
    every: str = strawberry.field(
        description="Period length, an ISO-8601 duration of one unit: `PT1H`, `P1D`, `P1W`, "
        "`P1M` (or multiples, `P3M`, `P1Y`). Days, weeks and months are calendar periods in "
        "`timezone`; hours are fixed."
    )
    period_start: Timestamp = strawberry.field(
        description="Start of the first period (and a boundary of every later one); may lie "
        "in the past, then the periods since are exported at once (see catchUp)."
    )
    delay: str = strawberry.field(
        default="PT0S",
        description="How long after a period ends its job is created, for data that arrives "
        "late: an ISO-8601 duration of weeks, days, hours, minutes, seconds (at most P31D).",
    )
    timezone: str = strawberry.field(
        default="UTC",
        description="IANA time zone of calendar periods (e.g. `Europe/Paris`: a daily period "
        "runs from local midnight to local midnight, across daylight-saving changes).",
    )
    catch_up: ScheduleCatchUp = strawberry.field(
        default=ScheduleCatchUp.ALL,
        description="After downtime, export every missed period or only the latest.",
    )


@strawberry.input(
    description="Change a schedule: omitted fields keep their value. Applies to periods whose "
    "job is not created yet; periods already exported are never exported again."
)
class UpdateExportScheduleInput:
    id: strawberry.ID = strawberry.field(description="Schedule id, `rec_<32 hex>`.")
    name: str | None = strawberry.field(default=None, description="New name.")
    export: ExportTemplateInput | None = strawberry.field(
        default=None, description="New export template (replaces the old one whole)."
    )
    every: str | None = strawberry.field(default=None, description="New period length.")
    period_start: Timestamp | None = strawberry.field(
        default=None,
        description="New anchor of the periods; the next period is the first one starting at "
        "or after both this and the end of the last period already created.",
    )
    delay: str | None = strawberry.field(default=None, description="New delay.")
    timezone: str | None = strawberry.field(default=None, description="New time zone.")
    catch_up: ScheduleCatchUp | None = strawberry.field(
        default=None, description="New catch-up policy."
    )


@strawberry.input(description="Which export schedule.")
class ExportScheduleIdInput:
    id: strawberry.ID = strawberry.field(description="Schedule id, `rec_<32 hex>`.")


def create_request(input: CreateExportScheduleInput) -> ScheduleRequest:
    return ScheduleRequest(
        name=input.name,
        export=template_request(input.export, "input.export"),
        every=input.every,
        period_start=input.period_start,
        delay=input.delay,
        timezone=input.timezone,
        catch_up=input.catch_up.name,
    )


def update_request(input: UpdateExportScheduleInput) -> ScheduleRequest:
    return ScheduleRequest(
        name=input.name,
        export=(
            template_request(input.export, "input.export") if input.export is not None else None
        ),
        every=input.every,
        period_start=input.period_start,
        delay=input.delay,
        timezone=input.timezone,
        catch_up=input.catch_up.name if input.catch_up is not None else None,
    )
