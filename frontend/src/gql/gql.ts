/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      workspace { name }\n      apiKey { name role }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  fragment DatastreamFields on Datastream {\n    id\n    datastreamId\n    streamType\n    wireFormat\n    exchange { code displayName }\n    instrument { symbol type }\n  }\n": typeof types.DatastreamFieldsFragmentDoc,
    "\n  query Catalog($exchange: String, $first: Int!) {\n    exchanges(first: 100) {\n      edges { node { code displayName instrumentCount } }\n    }\n    datastreams(exchange: $exchange, first: $first) {\n      totalCount\n      edges { node { ...DatastreamFields } }\n    }\n  }\n": typeof types.CatalogDocument,
    "\n  query InstrumentSearch($exchange: String, $search: String!, $first: Int!) {\n    instruments(exchange: $exchange, search: $search, first: $first) {\n      totalCount\n      edges { node { id datastreams { ...DatastreamFields } } }\n    }\n  }\n": typeof types.InstrumentSearchDocument,
    "\n  query Availability($datastreamId: ID!) {\n    availability(datastreamId: $datastreamId) {\n      datastreamId\n      ranges { fromTime toTime rowCount }\n      updatedAt\n    }\n  }\n": typeof types.AvailabilityDocument,
    "\n  query ExportSchemas($after: String) {\n    exportSchemas(first: 20, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          builtin\n          version\n          streamCategory\n          definition {\n            streamCategory\n            description\n            sources { source unfold { path tag } }\n            columns {\n              outputColumn\n              description\n              meta\n              format\n              data { source path type transform onError }\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.ExportSchemasDocument,
    "\n  query EstimateExport($input: CreateExportInput!) {\n    estimateExport(input: $input) {\n      estimatedRows\n      estimatedBytes\n      recordsInRange\n      sampledRecords\n      userErrors { code field message }\n    }\n  }\n": typeof types.EstimateExportDocument,
    "\n  fragment ExportJobFields on ExportJob {\n    id\n    status\n    reason\n    datastreamIds\n    format\n    compression\n    schema { name version }\n    startTime\n    endTime\n    createdAt\n    startedAt\n    finishedAt\n    progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten }\n    artifacts { filename url byteSize rowCount partial }\n    revision\n    updatedAt\n  }\n": typeof types.ExportJobFieldsFragmentDoc,
    "\n  query ExportJobs($first: Int!) {\n    exportJobs(first: $first) {\n      edges { node { ...ExportJobFields } }\n    }\n  }\n": typeof types.ExportJobsDocument,
    "\n  subscription ExportJobsUpdated($since: Timestamp) {\n    exportJobsUpdated(since: $since) { ...ExportJobFields }\n  }\n": typeof types.ExportJobsUpdatedDocument,
    "\n  mutation CreateExport($input: CreateExportInput!) {\n    createExport(input: $input) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n": typeof types.CreateExportDocument,
    "\n  mutation CancelExport($id: ID!) {\n    cancelExport(input: { id: $id }) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n": typeof types.CancelExportDocument,
    "\n  mutation DeleteExport($id: ID!) {\n    deleteExport(input: { id: $id }) {\n      deletedId\n      userErrors { code field message }\n    }\n  }\n": typeof types.DeleteExportDocument,
    "\n  query PreviewExportSchema($datastreamId: ID!, $inlineSchema: ExportSchemaDefinitionInput!, $limit: Int!) {\n    previewExportSchema(datastreamId: $datastreamId, inlineSchema: $inlineSchema, limit: $limit) {\n      columns { name type }\n      rows\n      userErrors { code field message }\n    }\n  }\n": typeof types.PreviewExportSchemaDocument,
    "\n  mutation CreateExportSchema($input: CreateExportSchemaInput!) {\n    createExportSchema(input: $input) {\n      exportSchema { id name version }\n      userErrors { code field message }\n    }\n  }\n": typeof types.CreateExportSchemaDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      workspace { name }\n      apiKey { name role }\n    }\n  }\n": types.ViewerDocument,
    "\n  fragment DatastreamFields on Datastream {\n    id\n    datastreamId\n    streamType\n    wireFormat\n    exchange { code displayName }\n    instrument { symbol type }\n  }\n": types.DatastreamFieldsFragmentDoc,
    "\n  query Catalog($exchange: String, $first: Int!) {\n    exchanges(first: 100) {\n      edges { node { code displayName instrumentCount } }\n    }\n    datastreams(exchange: $exchange, first: $first) {\n      totalCount\n      edges { node { ...DatastreamFields } }\n    }\n  }\n": types.CatalogDocument,
    "\n  query InstrumentSearch($exchange: String, $search: String!, $first: Int!) {\n    instruments(exchange: $exchange, search: $search, first: $first) {\n      totalCount\n      edges { node { id datastreams { ...DatastreamFields } } }\n    }\n  }\n": types.InstrumentSearchDocument,
    "\n  query Availability($datastreamId: ID!) {\n    availability(datastreamId: $datastreamId) {\n      datastreamId\n      ranges { fromTime toTime rowCount }\n      updatedAt\n    }\n  }\n": types.AvailabilityDocument,
    "\n  query ExportSchemas($after: String) {\n    exportSchemas(first: 20, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          builtin\n          version\n          streamCategory\n          definition {\n            streamCategory\n            description\n            sources { source unfold { path tag } }\n            columns {\n              outputColumn\n              description\n              meta\n              format\n              data { source path type transform onError }\n            }\n          }\n        }\n      }\n    }\n  }\n": types.ExportSchemasDocument,
    "\n  query EstimateExport($input: CreateExportInput!) {\n    estimateExport(input: $input) {\n      estimatedRows\n      estimatedBytes\n      recordsInRange\n      sampledRecords\n      userErrors { code field message }\n    }\n  }\n": types.EstimateExportDocument,
    "\n  fragment ExportJobFields on ExportJob {\n    id\n    status\n    reason\n    datastreamIds\n    format\n    compression\n    schema { name version }\n    startTime\n    endTime\n    createdAt\n    startedAt\n    finishedAt\n    progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten }\n    artifacts { filename url byteSize rowCount partial }\n    revision\n    updatedAt\n  }\n": types.ExportJobFieldsFragmentDoc,
    "\n  query ExportJobs($first: Int!) {\n    exportJobs(first: $first) {\n      edges { node { ...ExportJobFields } }\n    }\n  }\n": types.ExportJobsDocument,
    "\n  subscription ExportJobsUpdated($since: Timestamp) {\n    exportJobsUpdated(since: $since) { ...ExportJobFields }\n  }\n": types.ExportJobsUpdatedDocument,
    "\n  mutation CreateExport($input: CreateExportInput!) {\n    createExport(input: $input) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n": types.CreateExportDocument,
    "\n  mutation CancelExport($id: ID!) {\n    cancelExport(input: { id: $id }) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n": types.CancelExportDocument,
    "\n  mutation DeleteExport($id: ID!) {\n    deleteExport(input: { id: $id }) {\n      deletedId\n      userErrors { code field message }\n    }\n  }\n": types.DeleteExportDocument,
    "\n  query PreviewExportSchema($datastreamId: ID!, $inlineSchema: ExportSchemaDefinitionInput!, $limit: Int!) {\n    previewExportSchema(datastreamId: $datastreamId, inlineSchema: $inlineSchema, limit: $limit) {\n      columns { name type }\n      rows\n      userErrors { code field message }\n    }\n  }\n": types.PreviewExportSchemaDocument,
    "\n  mutation CreateExportSchema($input: CreateExportSchemaInput!) {\n    createExportSchema(input: $input) {\n      exportSchema { id name version }\n      userErrors { code field message }\n    }\n  }\n": types.CreateExportSchemaDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      workspace { name }\n      apiKey { name role }\n    }\n  }\n"): typeof import('./graphql').ViewerDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DatastreamFields on Datastream {\n    id\n    datastreamId\n    streamType\n    wireFormat\n    exchange { code displayName }\n    instrument { symbol type }\n  }\n"): typeof import('./graphql').DatastreamFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Catalog($exchange: String, $first: Int!) {\n    exchanges(first: 100) {\n      edges { node { code displayName instrumentCount } }\n    }\n    datastreams(exchange: $exchange, first: $first) {\n      totalCount\n      edges { node { ...DatastreamFields } }\n    }\n  }\n"): typeof import('./graphql').CatalogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query InstrumentSearch($exchange: String, $search: String!, $first: Int!) {\n    instruments(exchange: $exchange, search: $search, first: $first) {\n      totalCount\n      edges { node { id datastreams { ...DatastreamFields } } }\n    }\n  }\n"): typeof import('./graphql').InstrumentSearchDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Availability($datastreamId: ID!) {\n    availability(datastreamId: $datastreamId) {\n      datastreamId\n      ranges { fromTime toTime rowCount }\n      updatedAt\n    }\n  }\n"): typeof import('./graphql').AvailabilityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExportSchemas($after: String) {\n    exportSchemas(first: 20, after: $after) {\n      pageInfo { hasNextPage endCursor }\n      edges {\n        node {\n          id\n          name\n          builtin\n          version\n          streamCategory\n          definition {\n            streamCategory\n            description\n            sources { source unfold { path tag } }\n            columns {\n              outputColumn\n              description\n              meta\n              format\n              data { source path type transform onError }\n            }\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ExportSchemasDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query EstimateExport($input: CreateExportInput!) {\n    estimateExport(input: $input) {\n      estimatedRows\n      estimatedBytes\n      recordsInRange\n      sampledRecords\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').EstimateExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ExportJobFields on ExportJob {\n    id\n    status\n    reason\n    datastreamIds\n    format\n    compression\n    schema { name version }\n    startTime\n    endTime\n    createdAt\n    startedAt\n    finishedAt\n    progress { recordsRead recordsTotal fraction etaSeconds rowsWritten bytesWritten }\n    artifacts { filename url byteSize rowCount partial }\n    revision\n    updatedAt\n  }\n"): typeof import('./graphql').ExportJobFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExportJobs($first: Int!) {\n    exportJobs(first: $first) {\n      edges { node { ...ExportJobFields } }\n    }\n  }\n"): typeof import('./graphql').ExportJobsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ExportJobsUpdated($since: Timestamp) {\n    exportJobsUpdated(since: $since) { ...ExportJobFields }\n  }\n"): typeof import('./graphql').ExportJobsUpdatedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateExport($input: CreateExportInput!) {\n    createExport(input: $input) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').CreateExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelExport($id: ID!) {\n    cancelExport(input: { id: $id }) {\n      exportJob { ...ExportJobFields }\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').CancelExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteExport($id: ID!) {\n    deleteExport(input: { id: $id }) {\n      deletedId\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').DeleteExportDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewExportSchema($datastreamId: ID!, $inlineSchema: ExportSchemaDefinitionInput!, $limit: Int!) {\n    previewExportSchema(datastreamId: $datastreamId, inlineSchema: $inlineSchema, limit: $limit) {\n      columns { name type }\n      rows\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').PreviewExportSchemaDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateExportSchema($input: CreateExportSchemaInput!) {\n    createExportSchema(input: $input) {\n      exportSchema { id name version }\n      userErrors { code field message }\n    }\n  }\n"): typeof import('./graphql').CreateExportSchemaDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
