from collections.abc import AsyncIterator
from typing import Any, Optional, Union

from export_gateway_client.scalars import serialize_timestamp

from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType
from .cancel_export import CancelExport
from .create_export import CreateExport
from .delete_export import DeleteExport
from .enums import ExportFormat, ExportJobOrder, ExportStatus
from .estimate_export import EstimateExport
from .export_job_updated import ExportJobUpdated
from .export_jobs_updated import ExportJobsUpdated
from .get_availability import GetAvailability
from .get_export_job import GetExportJob
from .input_types import CreateExportInput
from .list_datastreams import ListDatastreams
from .list_export_jobs import ListExportJobs
from .list_export_schemas import ListExportSchemas


def gql(q: str) -> str:
    return q


class GeneratedClient(AsyncBaseClient):
    async def list_export_schemas(
        self,
        stream_category: Union[Optional[str], UnsetType] = UNSET,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ListExportSchemas:
        query = gql("""
            query ListExportSchemas($streamCategory: String, $first: Int, $after: String) {
              exportSchemas(streamCategory: $streamCategory, first: $first, after: $after) {
                totalCount
                edges {
                  cursor
                  node {
                    id
                    name
                    description
                    streamCategory
                    builtin
                    version
                    columns
                    exchanges
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "streamCategory": stream_category,
            "first": first,
            "after": after,
        }
        response = await self.execute(
            query=query,
            operation_name="ListExportSchemas",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return ListExportSchemas.model_validate(data)

    async def list_datastreams(
        self,
        include_archived: bool,
        exchange: Union[Optional[str], UnsetType] = UNSET,
        instrument: Union[Optional[str], UnsetType] = UNSET,
        stream_type: Union[Optional[str], UnsetType] = UNSET,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ListDatastreams:
        query = gql("""
            query ListDatastreams($exchange: String, $instrument: String, $streamType: String, $includeArchived: Boolean! = false, $first: Int, $after: String) {
              datastreams(
                exchange: $exchange
                instrument: $instrument
                streamType: $streamType
                includeArchived: $includeArchived
                first: $first
                after: $after
              ) {
                totalCount
                edges {
                  cursor
                  node {
                    id
                    datastreamId
                    exchange {
                      code
                    }
                    instrument {
                      id
                      symbol
                      type
                      archived
                    }
                    streamType
                    wireFormat
                    source
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "exchange": exchange,
            "instrument": instrument,
            "streamType": stream_type,
            "includeArchived": include_archived,
            "first": first,
            "after": after,
        }
        response = await self.execute(
            query=query, operation_name="ListDatastreams", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ListDatastreams.model_validate(data)

    async def get_availability(
        self, datastream_id: str, **kwargs: Any
    ) -> GetAvailability:
        query = gql("""
            query GetAvailability($datastreamId: ID!) {
              availability(datastreamId: $datastreamId) {
                datastreamId
                ranges {
                  fromTime
                  toTime
                  rowCount
                }
                updatedAt
              }
            }
            """)
        variables: dict[str, object] = {"datastreamId": datastream_id}
        response = await self.execute(
            query=query, operation_name="GetAvailability", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return GetAvailability.model_validate(data)

    async def get_export_job(self, id: str, **kwargs: Any) -> GetExportJob:
        query = gql("""
            query GetExportJob($id: ID!) {
              exportJob(id: $id) {
                ...ExportJobFields
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="GetExportJob", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return GetExportJob.model_validate(data)

    async def list_export_jobs(
        self,
        order_by: ExportJobOrder,
        status: Union[Optional[ExportStatus], UnsetType] = UNSET,
        datastream_id: Union[Optional[str], UnsetType] = UNSET,
        format: Union[Optional[ExportFormat], UnsetType] = UNSET,
        created_after: Union[Optional[int], UnsetType] = UNSET,
        created_before: Union[Optional[int], UnsetType] = UNSET,
        first: Union[Optional[int], UnsetType] = UNSET,
        after: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> ListExportJobs:
        query = gql("""
            query ListExportJobs($status: ExportStatus, $datastreamId: ID, $format: ExportFormat, $createdAfter: Timestamp, $createdBefore: Timestamp, $orderBy: ExportJobOrder! = CREATED_AT_DESC, $first: Int, $after: String) {
              exportJobs(
                status: $status
                datastreamId: $datastreamId
                format: $format
                createdAfter: $createdAfter
                createdBefore: $createdBefore
                orderBy: $orderBy
                first: $first
                after: $after
              ) {
                totalCount
                edges {
                  cursor
                  node {
                    ...ExportJobFields
                  }
                }
                pageInfo {
                  ...PageInfoFields
                }
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }

            fragment PageInfoFields on PageInfo {
              hasNextPage
              endCursor
            }
            """)
        variables: dict[str, object] = {
            "status": status,
            "datastreamId": datastream_id,
            "format": format,
            "createdAfter": serialize_timestamp(created_after),
            "createdBefore": serialize_timestamp(created_before),
            "orderBy": order_by,
            "first": first,
            "after": after,
        }
        response = await self.execute(
            query=query, operation_name="ListExportJobs", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ListExportJobs.model_validate(data)

    async def create_export(
        self, input: CreateExportInput, **kwargs: Any
    ) -> CreateExport:
        query = gql("""
            mutation CreateExport($input: CreateExportInput!) {
              createExport(input: $input) {
                exportJob {
                  ...ExportJobFields
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateExport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateExport.model_validate(data)

    async def cancel_export(self, id: str, **kwargs: Any) -> CancelExport:
        query = gql("""
            mutation CancelExport($id: ID!) {
              cancelExport(input: {id: $id}) {
                exportJob {
                  ...ExportJobFields
                }
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="CancelExport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CancelExport.model_validate(data)

    async def delete_export(self, id: str, **kwargs: Any) -> DeleteExport:
        query = gql("""
            mutation DeleteExport($id: ID!) {
              deleteExport(input: {id: $id}) {
                deletedId
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="DeleteExport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DeleteExport.model_validate(data)

    async def estimate_export(
        self, input: CreateExportInput, **kwargs: Any
    ) -> EstimateExport:
        query = gql("""
            query EstimateExport($input: CreateExportInput!) {
              estimateExport(input: $input) {
                estimatedRows
                estimatedBytes
                recordsInRange
                sampledRecords
                userErrors {
                  ...UserErrorFields
                }
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="EstimateExport", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return EstimateExport.model_validate(data)

    async def export_job_updated(
        self, id: str, **kwargs: Any
    ) -> AsyncIterator[ExportJobUpdated]:
        query = gql("""
            subscription ExportJobUpdated($id: ID!) {
              exportJobUpdated(id: $id) {
                ...ExportJobFields
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        async for data in self.execute_ws(
            query=query,
            operation_name="ExportJobUpdated",
            variables=variables,
            **kwargs,
        ):
            yield ExportJobUpdated.model_validate(data)

    async def export_jobs_updated(
        self,
        status: Union[Optional[ExportStatus], UnsetType] = UNSET,
        datastream_id: Union[Optional[str], UnsetType] = UNSET,
        **kwargs: Any,
    ) -> AsyncIterator[ExportJobsUpdated]:
        query = gql("""
            subscription ExportJobsUpdated($status: ExportStatus, $datastreamId: ID) {
              exportJobsUpdated(status: $status, datastreamId: $datastreamId) {
                ...ExportJobFields
              }
            }

            fragment ExportArtifactFields on ExportArtifact {
              filename
              url
              expiresAt
              byteSize
              rowCount
              sha256
              contentType
              partial
            }

            fragment ExportJobFields on ExportJob {
              id
              status
              reason
              datastreamId
              datastreamIds
              format
              compression
              schema {
                name
                id
                version
                columns
              }
              startTime
              endTime
              createdAt
              startedAt
              finishedAt
              expiresAt
              idempotencyKey
              attempts
              keepPartial
              progress {
                rowsWritten
                bytesWritten
                estimatedRows
              }
              artifacts {
                ...ExportArtifactFields
              }
            }
            """)
        variables: dict[str, object] = {"status": status, "datastreamId": datastream_id}
        async for data in self.execute_ws(
            query=query,
            operation_name="ExportJobsUpdated",
            variables=variables,
            **kwargs,
        ):
            yield ExportJobsUpdated.model_validate(data)
