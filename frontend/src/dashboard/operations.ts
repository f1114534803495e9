// Every operation the dashboard sends, typed by graphql-codegen from schema.graphql.
import { graphql } from "../gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      workspace { name }
      apiKey { name role }
    }
  }
`);

export const DatastreamFields = graphql(`
  fragment DatastreamFields on Datastream {
    id
    datastreamId
    streamType
    wireFormat
    exchange { code displayName }
    instrument { symbol type }
  }
`);

export const CatalogQuery = graphql(`
  query Catalog($exchange: String, $first: Int!) {
    exchanges(first: 100) {
      edges { node { code displayName instrumentCount } }
    }
    datastreams(exchange: $exchange, first: $first) {
      totalCount
      edges { node { ...DatastreamFields } }
    }
  }
`);

export const InstrumentSearchQuery = graphql(`
  query InstrumentSearch($exchange: String, $search: String!, $first: Int!) {
    instruments(exchange: $exchange, search: $search, first: $first) {
      totalCount
      edges { node { id datastreams { ...DatastreamFields } } }
    }
  }
`);

export const AvailabilityQuery = graphql(`
  query Availability($datastreamId: ID!) {
    availability(datastreamId: $datastreamId) {
      datastreamId
      ranges { fromTime toTime rowCount }
      updatedAt
    }
  }
`);

export const ExportSchemasQuery = graphql(`
  query ExportSchemas($after: String) {
    exportSchemas(first: 20, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id
          name
          builtin
          version
          streamCategory
          definition {
            streamCategory
            description
            sources { source unfold { path tag } }
            columns {
              outputColumn
              description
              meta
              format
              data { source path type transform onError }
            }
          }
        }
      }
    }
  }
`);

export const EstimateExportQuery = graphql(`
  query EstimateExport($input: CreateExportInput!) {
    estimateExport(input: $input) {
      estimatedRows
      estimatedBytes
      recordsInRange
      sampledRecords
      userErrors { code field message }
    }
  }
`);

export const ExportJobFields = graphql(`
  fragment ExportJobFields on ExportJob {
    id
    status
    reason
    datastreamIds
    format
    compression
    schema { name version }
    startTime
    endTime
    createdAt
    startedAt
    finishedAt
    progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten }
    artifacts { filename url byteSize rowCount partial }
    revision
    updatedAt
  }
`);

export const ExportJobsQuery = graphql(`
  query ExportJobs($first: Int!) {
    exportJobs(first: $first) {
      edges { node { ...ExportJobFields } }
    }
  }
`);

export const ExportJobsUpdatedSubscription = graphql(`
  subscription ExportJobsUpdated($since: Timestamp) {
    exportJobsUpdated(since: $since) { ...ExportJobFields }
  }
`);

export const CreateExportMutation = graphql(`
  mutation CreateExport($input: CreateExportInput!) {
    createExport(input: $input) {
      exportJob { ...ExportJobFields }
      userErrors { code field message }
    }
  }
`);

export const CancelExportMutation = graphql(`
  mutation CancelExport($id: ID!) {
    cancelExport(input: { id: $id }) {
      exportJob { ...ExportJobFields }
      userErrors { code field message }
    }
  }
`);

export const DeleteExportMutation = graphql(`
  mutation DeleteExport($id: ID!) {
    deleteExport(input: { id: $id }) {
      deletedId
      userErrors { code field message }
    }
  }
`);

export const PreviewExportSchemaQuery = graphql(`
  query PreviewExportSchema($datastreamId: ID!, $inlineSchema: ExportSchemaDefinitionInput!, $limit: Int!) {
    previewExportSchema(datastreamId: $datastreamId, inlineSchema: $inlineSchema, limit: $limit) {
      columns { name type }
      rows
      userErrors { code field message }
    }
  }
`);

export const CreateExportSchemaMutation = graphql(`
  mutation CreateExportSchema($input: CreateExportSchemaInput!) {
    createExportSchema(input: $input) {
      exportSchema { id name version }
      userErrors { code field message }
    }
  }
`);
