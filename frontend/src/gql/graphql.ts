/* eslint-disable */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf). */
  JSON: { input: unknown; output: unknown; }
  /** A 64-bit signed integer (counts, byte sizes, ids), in [-2^63, 2^63-1]. Serialized as a JSON string of decimal ASCII digits with an optional leading `-` (`"9007199254740993"`), because JSON numbers beyond 2^53 lose digits in parsers that read numbers as doubles (RFC 8259 section 6). Accepted as a JSON number or as a decimal string (an optional sign, 1 to 19 digits); fractions, exponents and values outside int64 are rejected. */
  Long: { input: string | number; output: string | number; }
  /** A point in time with nanosecond precision. Output: ISO-8601 UTC with nine fractional digits (2024-01-15T10:00:00.123456789Z). Input: ISO-8601 with up to nine fractional digits and `Z` or an offset, or nanoseconds since the Unix epoch as a number or string. */
  Timestamp: { input: string; output: string; }
  /** Represents a file upload. */
  Upload: { input: File; output: File; }
};

/** How a decimation summarises a column per bucket. */
export type AggregateFunction =
  /** Mean (exact for decimals). */
  | 'AVG'
  /** Number of non-null values. */
  | 'COUNT'
  /** First value in the bucket. */
  | 'FIRST'
  /** Last value in the bucket. */
  | 'LAST'
  /** Largest value. */
  | 'MAX'
  /** Smallest value. */
  | 'MIN'
  /** Shorthand for first/max/min/last as <column>_open/high/low/close. */
  | 'OHLC'
  /** Sum. */
  | 'SUM';

/** One aggregated output column. */
export type AggregationInput = {
  /** Schema output column to aggregate. */
  column: Scalars['String']['input'];
  /** Aggregate function. */
  fn: AggregateFunction;
  /** Optional transformation of the result. */
  transform?: InputMaybe<ColumnTransform>;
};

/** An API key of your workspace (never its secret). */
export type ApiKey = Node & {
  /** When it was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** When it stops working; null if it does not expire. */
  expiresAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** When it was last used (to the minute); null if never. */
  lastUsedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** What it is for, e.g. `dashboard`. */
  name: Scalars['String']['output'];
  /** The first characters of its token, to tell keys apart (e.g. `egw_AbC1dE2f`). */
  prefix?: Maybe<Scalars['String']['output']>;
  /** When it was revoked; null if it is live. */
  revokedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** What it may do. */
  role: ApiKeyRole;
};

/** A page of a list (Relay connection). */
export type ApiKeyConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ApiKeyEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ApiKeyEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ApiKey;
};

/** What a key may do; each role allows what the one before allows. */
export type ApiKeyRole =
  /** Also manage the workspace's API keys and settings, and register instruments and datastreams in the catalog. */
  | 'ADMIN'
  /** Also create, cancel and delete exports and export schemas. */
  | 'MEMBER'
  /** Read the catalog, jobs and schemas; follow jobs; download files. */
  | 'VIEWER';

/** Which time ranges of a datastream hold data. */
export type Availability = {
  /** The datastream (`ds_<id>`). */
  datastreamId: Scalars['ID']['output'];
  /** Disjoint ranges, oldest first. */
  ranges: Array<AvailableRange>;
  /** When data was last added; null if the datastream has none. */
  updatedAt?: Maybe<Scalars['Timestamp']['output']>;
};

/** A half-open time range [fromTime, toTime) that holds records. */
export type AvailableRange = {
  /** First record's collection time. */
  fromTime: Scalars['Timestamp']['output'];
  /** Records in the range. */
  rowCount: Scalars['Long']['output'];
  /** Just after the last record (exclusive). */
  toTime: Scalars['Timestamp']['output'];
};

/** Which job to cancel. */
export type CancelExportInput = {
  /** Job id, `exp_<32 hex>`. */
  id: Scalars['ID']['input'];
};

/** Result of cancelExport. */
export type CancelExportPayload = {
  /** The job after cancellation. */
  exportJob?: Maybe<ExportJob>;
  /** Why it could not be canceled. */
  userErrors: Array<UserError>;
};

/** A time range during which the datastream was being collected for this subscription; the gaps between spans were not collected. */
export type CollectionSpan = {
  /** The collector process that collected it. */
  collector: Scalars['String']['output'];
  /** Why it ended. */
  endReason?: Maybe<SpanEndReason>;
  /** When it ended; null: ongoing. */
  endedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** When collection began. */
  startedAt: Scalars['Timestamp']['output'];
};

/** Whether a subscription is being collected. */
export type CollectionStatus =
  /** Collected whenever the feed is connected (see spans). */
  | 'ACTIVE'
  /** The feed cannot be collected; see reason. Resume to try again. */
  | 'ERROR'
  /** Not collected until resumed. */
  | 'PAUSED';

/** Your workspace's subscription to a datastream: while ACTIVE, the service collects it live from the exchange (shared with other workspaces subscribed to it). */
export type CollectionSubscription = Node & {
  /** Whether a span is open now. */
  collecting: Scalars['Boolean']['output'];
  /** When it was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** The datastream collected. */
  datastreamId: Scalars['Long']['output'];
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** The key it was created with. */
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  /** Why it is in ERROR. */
  reason?: Maybe<Scalars['String']['output']>;
  /** What was collected, oldest first. */
  spans: Array<CollectionSpan>;
  /** ACTIVE, PAUSED or ERROR. */
  status: CollectionStatus;
  /** When its status last changed. */
  updatedAt: Scalars['Timestamp']['output'];
};

/** A page of a list (Relay connection). */
export type CollectionSubscriptionConnection = {
  /** The items of this page, with cursors. */
  edges: Array<CollectionSubscriptionEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type CollectionSubscriptionEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: CollectionSubscription;
};

/** Which collection subscription. */
export type CollectionSubscriptionIdInput = {
  /** `sub_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of a change to a collection subscription. */
export type CollectionSubscriptionPayload = {
  /** The subscription as it now is. */
  collectionSubscription?: Maybe<CollectionSubscription>;
  /** Why nothing changed. */
  userErrors: Array<UserError>;
};

/** Another name for an output column, in the files only. */
export type ColumnLabelInput = {
  /** Its name in the files, 1 to 100 characters. */
  label: Scalars['String']['input'];
  /** Output column (after decimation and layout). */
  name: Scalars['String']['input'];
};

/** How one source fills a data column. */
export type ColumnMapping = {
  /** What a value that does not convert does. */
  onError: OnError;
  /** JSON path read. */
  path: Scalars['String']['output'];
  /** Exchange code or exchange_market. */
  source: Scalars['String']['output'];
  /** SQL scalar expression, if any. */
  transform?: Maybe<Scalars['String']['output']>;
  /** Declared type. */
  type: Scalars['String']['output'];
};

/** How one source fills a data column. */
export type ColumnMappingInput = {
  /** What a value that does not convert does. */
  onError?: OnError;
  /** JSON path: `data.p`, `data.b[0][1]`; `$...` is the unfolded element. */
  path: Scalars['String']['input'];
  /** Exchange code or exchange_market. */
  source: Scalars['String']['input'];
  /** SQL scalar expression over `{v}` and other `{path}` / `{path:type}` values. */
  transform?: InputMaybe<Scalars['String']['input']>;
  /** string, bool, int, float, decimal(S), timestamp_s|ms|us|ns, json. */
  type: Scalars['String']['input'];
};

/** A transformation of an aggregated column. */
export type ColumnTransform =
  /** Difference from the previous row. */
  | 'DELTA';

/** Whole-file compression (CSV and JSON lines). */
export type Compression =
  /** gzip; the default for CSV and JSON lines. */
  | 'GZIP'
  /** Uncompressed (always for Parquet). */
  | 'NONE'
  /** Zstandard (`.zst`), for CSV and JSON lines. */
  | 'ZSTD';

/** A new API key. */
export type CreateApiKeyInput = {
  /** When it stops working; default never. */
  expiresAt?: InputMaybe<Scalars['Timestamp']['input']>;
  /** What it is for (1 to 200 characters). */
  name: Scalars['String']['input'];
  /** What it may do; default MEMBER. */
  role?: ApiKeyRole;
};

/** Result of createApiKey. */
export type CreateApiKeyPayload = {
  /** The new key. */
  apiKey?: Maybe<ApiKey>;
  /** The key's secret, shown this once: send it as X-Api-Key. Only its hash is stored. */
  token?: Maybe<Scalars['String']['output']>;
  /** Why no key was created. */
  userErrors: Array<UserError>;
};

/** Start collecting a datastream for your workspace. */
export type CreateCollectionSubscriptionInput = {
  /** Datastream id (`101` or `ds_101`). */
  datastreamId: Scalars['ID']['input'];
  /** Retry-safe key: the same key returns the same subscription. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
};

/** A new email notification. */
export type CreateEmailNotificationInput = {
  /** The events it is for; default all (the policy chooses). */
  events?: InputMaybe<Array<NotificationEvent>>;
  /** Successes, failures or both. */
  policy?: NotificationPolicy;
  /** 1 to 50 email addresses. */
  recipients: Array<Scalars['String']['input']>;
  /** Subject template: `$name` or `${name}` for event_id, event_type, event_time, job_id, kind, status, reason, datastream_id, format, start_time, end_time, finished_at, rows, bytes, links; `$$` for a dollar. */
  subject: Scalars['String']['input'];
  /** Body template, with the same fields. */
  text: Scalars['String']['input'];
};

/** What to export: a template and its time range. */
export type CreateExportInput = {
  /** Rename output columns in the files without writing a schema (filters, columns and aggregations keep using the output names). */
  columnLabels?: InputMaybe<Array<ColumnLabelInput>>;
  /** A subset of the output columns, in the order wanted. */
  columns?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Default: GZIP for CSV and JSONL, NONE for Parquet. */
  compression?: InputMaybe<Compression>;
  /** Datastream id (`101` or `ds_101`). Exactly one of datastreamId and datastreamIds. */
  datastreamId?: InputMaybe<Scalars['ID']['input']>;
  /** Several datastreams of one stream category (at most GATEWAY_MAX_EXPORT_DATASTREAMS, default 2,000) merged in collection-time order, instead of datastreamId. The schema, filter and decimation apply to each stream; limit to the merged rows. Pass long lists as variables. */
  datastreamIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Aggregate rows into time buckets (e.g. OHLCV bars). */
  decimation?: InputMaybe<DecimationInput>;
  /** Range end, exclusive. */
  endTime: Scalars['Timestamp']['input'];
  /** Only rows for which this holds. */
  filter?: InputMaybe<ExportFilterInput>;
  /** File format. */
  format?: ExportFormat;
  /** Options of the chosen format (CSV: delimiter, header, quoting, nullString, lineTerminator, timestampFormat; PARQUET: compression, compressionLevel, rowGroupSize, dictionary, statistics, dataPageSize; JSONL: timestampFormat, decimals). Missing keys get the server defaults, echoed on the job. */
  formatOptions?: InputMaybe<Scalars['JSON']['input']>;
  /** Retry-safe key: the same key and request return the same job; the same key with a different request is a CONFLICT. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** A schema given in full for this export only, instead of schema. */
  inlineSchema?: InputMaybe<ExportSchemaDefinitionInput>;
  /** If the job fails after writing rows, keep what it wrote as partial artifacts (complete, readable files of the rows before the failure, named `*.partial.*` and marked `partial`), downloadable for the retention period. Default: a failed job keeps no files. */
  keepPartial?: Scalars['Boolean']['input'];
  /** LONG (default) or WIDE (decimated exports). */
  layout?: InputMaybe<ExportLayout>;
  /** At most this many rows (after filters); clamped to the maximum. */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** Export schema: a built-in name (`raw`, `normalized`), one of your schemas' names, or its `sch_` id (pinned across renames). Default `raw`. Not with inlineSchema. */
  schema?: InputMaybe<Scalars['String']['input']>;
  /** Several files (by period, rows, bytes or datastream) and a manifest. */
  split?: InputMaybe<SplitInput>;
  /** Range start, inclusive. */
  startTime: Scalars['Timestamp']['input'];
  /** Column prefixes of the WIDE layout, per datastream. */
  streamLabels?: InputMaybe<Array<StreamLabelInput>>;
  /** IANA time zone (e.g. `Europe/Paris`) of ISO timestamps (timestampFormat iso: `2024-01-15T09:00:00+01:00`) and of Parquet timestamp columns. Default UTC. */
  timezone?: InputMaybe<Scalars['String']['input']>;
};

/** Result of createExport. */
export type CreateExportPayload = {
  /** The job, new or replayed; null on errors. */
  exportJob?: Maybe<ExportJob>;
  /** Why the job was not created. */
  userErrors: Array<UserError>;
};

/** A recurring export: a job per period, once the period is over. */
export type CreateExportScheduleInput = {
  /** After downtime, export every missed period or only the latest. */
  catchUp?: ScheduleCatchUp;
  /** How long after a period ends its job is created, for data that arrives late: an ISO-8601 duration of weeks, days, hours, minutes, seconds (at most P31D). */
  delay?: Scalars['String']['input'];
  /** Period length, an ISO-8601 duration of one unit: `PT1H`, `P1D`, `P1W`, `P1M` (or multiples, `P3M`, `P1Y`). Days, weeks and months are calendar periods in `timezone`; hours are fixed. */
  every: Scalars['String']['input'];
  /** What each period's job exports: the createExport input without its times. */
  export: ExportTemplateInput;
  /** A name to tell schedules apart (1-200 chars). */
  name: Scalars['String']['input'];
  /** Start of the first period (and a boundary of every later one); may lie in the past, then the periods since are exported at once (see catchUp). */
  periodStart: Scalars['Timestamp']['input'];
  /** IANA time zone of calendar periods (e.g. `Europe/Paris`: a daily period runs from local midnight to local midnight, across daylight-saving changes). */
  timezone?: Scalars['String']['input'];
};

/** A new schema; it is published as version 1. */
export type CreateExportSchemaInput = {
  /** Its contents. */
  definition: ExportSchemaDefinitionInput;
  /** Unique in your workspace; not a built-in's name. */
  name: Scalars['String']['input'];
};

/** A file you are about to upload for an import. */
export type CreateImportUploadInput = {
  /** Its size, if known: refused at once if over the limit. */
  byteSize?: InputMaybe<Scalars['Long']['input']>;
  /** Its name; the suffix says the format: .csv, .jsonl or .parquet, optionally .gz (CSV and JSON lines). */
  filename: Scalars['String']['input'];
};

/** A new webhook. */
export type CreateWebhookInput = {
  /** What it is for. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** The events to send. */
  events: Array<NotificationEvent>;
  /** Signing secret, `whsec_` and base64 of 24 to 64 bytes; default: generated and returned once. */
  secret?: InputMaybe<Scalars['String']['input']>;
  /** http(s) URL; addresses of loopback, private or link-local networks are refused unless the gateway allows them. */
  url: Scalars['String']['input'];
};

/** A stream of timestamped records from one exchange and instrument. */
export type Datastream = Node & {
  /** The numeric int64 id used in inputs. */
  datastreamId: Scalars['Long']['output'];
  /** Where the records come from. */
  exchange: Exchange;
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** What they are about. */
  instrument: Instrument;
  /** Where it comes from (a feed URL or topic), as registered; null if unknown. */
  source?: Maybe<Scalars['String']['output']>;
  /** Kind of records, e.g. `trades`. */
  streamType: Scalars['String']['output'];
  /** Message shape, e.g. `binance.trade`. */
  wireFormat: Scalars['String']['output'];
};

/** A page of a list (Relay connection). */
export type DatastreamConnection = {
  /** The items of this page, with cursors. */
  edges: Array<DatastreamEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type DatastreamEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Datastream;
};

/** Result of registerDatastream and updateDatastream. */
export type DatastreamPayload = {
  /** The datastream as registered (or as it already was). */
  datastream?: Maybe<Datastream>;
  /** Why nothing was registered or changed. */
  userErrors: Array<UserError>;
};

/** What to do with buckets that have no rows. */
export type DecimationFill =
  /** Leave them out. */
  | 'NONE'
  /** Emit them with null values. */
  | 'NULL'
  /** Repeat the previous bucket's values (counts and sums 0). */
  | 'PREVIOUS';

/** Time buckets aligned to the epoch over the collection timestamp; output columns are bucket_start and <column>_<fn> per aggregation. */
export type DecimationInput = {
  /** Columns to produce. */
  aggregations: Array<AggregationInput>;
  /** Empty buckets. */
  fill?: DecimationFill;
  /** Bucket width: 500ms, 1s, 15m, 4h, 1d ... */
  interval: Scalars['String']['input'];
};

/** Result of deleteCollectionSubscription. */
export type DeleteCollectionSubscriptionPayload = {
  /** The id of the deleted subscription. */
  deletedId?: Maybe<Scalars['ID']['output']>;
  /** Why it was not deleted. */
  userErrors: Array<UserError>;
};

/** Which job to delete. */
export type DeleteExportInput = {
  /** Job id, `exp_<32 hex>`. */
  id: Scalars['ID']['input'];
};

/** Result of deleteExport. */
export type DeleteExportPayload = {
  /** The id of the deleted job; null on errors. */
  deletedId?: Maybe<Scalars['ID']['output']>;
  /** Why it was not deleted. */
  userErrors: Array<UserError>;
};

/** Result of deleteExportSchedule. */
export type DeleteExportSchedulePayload = {
  /** The deleted schedule's id; null on errors. */
  deletedId?: Maybe<Scalars['ID']['output']>;
  /** Why nothing was deleted. */
  userErrors: Array<UserError>;
};

/** Result of deleteExportSchema. */
export type DeleteExportSchemaPayload = {
  /** The id that was deleted. */
  deletedId?: Maybe<Scalars['ID']['output']>;
  /** Why it was not deleted. */
  userErrors: Array<UserError>;
};

/** Result of the delete mutations of notifications. */
export type DeleteNotificationPayload = {
  /** The id deleted; null on errors. */
  deletedId?: Maybe<Scalars['ID']['output']>;
  /** Why nothing was deleted. */
  userErrors: Array<UserError>;
};

/** One try of a delivery. */
export type DeliveryAttempt = {
  /** What went wrong; null on success. */
  error?: Maybe<Scalars['String']['output']>;
  /** How long it took, in milliseconds. */
  latencyMs: Scalars['Int']['output'];
  /** 1 for the first attempt. */
  number: Scalars['Int']['output'];
  /** When it started. */
  startedAt: Scalars['Timestamp']['output'];
  /** The HTTP status answered (250 for an email taken); null if none came. */
  statusCode?: Maybe<Scalars['Int']['output']>;
};

/** Where a delivery is. */
export type DeliveryStatus =
  /** Being sent right now. */
  | 'DELIVERING'
  /** Retried for the whole retry window (about a day) without success. */
  | 'FAILED'
  /** Waiting for its first attempt or its next retry. */
  | 'PENDING'
  /** The receiver answered 2xx (or the SMTP server took it). */
  | 'SUCCEEDED';

/** Emails sent through the gateway's SMTP server on events. */
export type EmailNotification = Node & {
  /** When it was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** False: no new emails are sent. */
  enabled: Scalars['Boolean']['output'];
  /** The events it is for. */
  events: Array<NotificationEvent>;
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** Successes, failures or both. */
  policy: NotificationPolicy;
  /** Who gets the emails. */
  recipients: Array<Scalars['String']['output']>;
  /** Subject template (`$status`, `${job_id}` ...). */
  subject: Scalars['String']['output'];
  /** Body template; the HTML part is the same text, values escaped, with the download links. */
  text: Scalars['String']['output'];
  /** When it was last changed. */
  updatedAt: Scalars['Timestamp']['output'];
};

/** A page of a list (Relay connection). */
export type EmailNotificationConnection = {
  /** The items of this page, with cursors. */
  edges: Array<EmailNotificationEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type EmailNotificationEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: EmailNotification;
};

/** Which email notification. */
export type EmailNotificationIdInput = {
  /** `eml_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of createEmailNotification and updateEmailNotification. */
export type EmailNotificationPayload = {
  /** The email notification. */
  emailNotification?: Maybe<EmailNotification>;
  /** Why nothing was changed. */
  userErrors: Array<UserError>;
};

/** A trading venue. */
export type Exchange = {
  /** Stable lowercase code, e.g. `binance`. */
  code: Scalars['String']['output'];
  /** Its datastreams, ordered by id (the same pages as `datastreams`). */
  datastreams: DatastreamConnection;
  /** Name for people, e.g. `Binance`. */
  displayName: Scalars['String']['output'];
  /** How many instruments it lists, archived ones not counted. */
  instrumentCount: Scalars['Int']['output'];
};


/** A trading venue. */
export type ExchangeDatastreamsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  includeArchived?: Scalars['Boolean']['input'];
};

/** A page of a list (Relay connection). */
export type ExchangeConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ExchangeEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ExchangeEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Exchange;
};

/** A produced file, downloadable through a signed, expiring URL. */
export type ExportArtifact = {
  /** Size of the file in bytes. */
  byteSize: Scalars['Long']['output'];
  /** MIME type served with the file. */
  contentType: Scalars['String']['output'];
  /** When `url` stops working. */
  expiresAt: Scalars['Timestamp']['output'];
  /** File name, e.g. `101_exp_....csv.gz`. */
  filename: Scalars['String']['output'];
  /** Kept from a FAILED job that asked for it (`keepPartial`): only the rows written before the failure. */
  partial: Scalars['Boolean']['output'];
  /** Data rows in the file (header not counted). */
  rowCount: Scalars['Long']['output'];
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: Scalars['String']['output'];
  /** Signed download URL; no API key needed until it expires. With artifacts in an object store, the store's presigned URL (STORAGE_DOWNLOADS=presigned) or the gateway's, which streams the file from the store (proxy). */
  url: Scalars['String']['output'];
};

/** What an export would produce, estimated without running it. */
export type ExportEstimate = {
  /** Bytes the files would take. */
  estimatedBytes: Scalars['Long']['output'];
  /** Rows the files would hold. */
  estimatedRows: Scalars['Long']['output'];
  /** Stored records in the time range (segment catalog). */
  recordsInRange: Scalars['Long']['output'];
  /** Records actually exported as a sample to measure rows per record and bytes per row. */
  sampledRecords: Scalars['Int']['output'];
  /** Why the request is invalid (the same errors createExport would give). */
  userErrors: Array<UserError>;
};

/** A filter on output columns: exactly one of and, or, not, or column+op(+value). */
export type ExportFilterInput = {
  /** All of these hold. */
  and?: InputMaybe<Array<ExportFilterInput>>;
  /** Output column compared. */
  column?: InputMaybe<Scalars['String']['input']>;
  /** This does not hold. */
  not?: InputMaybe<ExportFilterInput>;
  /** Comparison. */
  op?: InputMaybe<FilterOp>;
  /** At least one of these holds. */
  or?: InputMaybe<Array<ExportFilterInput>>;
  /** A value of the column's type (timestamps as ISO-8601 or nanoseconds, decimals as string or number); a list for in/notIn. */
  value?: InputMaybe<Scalars['JSON']['input']>;
};

/** File format of an export. */
export type ExportFormat =
  /** Comma-separated values with a header row. */
  | 'CSV'
  /** One JSON object per line. */
  | 'JSONL'
  /** Apache Parquet, zstd, with real column types. */
  | 'PARQUET';

/** An asynchronous export of one datastream's (or several merged) time range to files. */
export type ExportJob = Node & {
  /** Produced files; empty until the job SUCCEEDED. A FAILED job created with `keepPartial` lists the partial files it kept (each `partial: true`) until `expiresAt`. */
  artifacts: Array<ExportArtifact>;
  /** How many times a worker has started it. */
  attempts: Scalars['Int']['output'];
  /** Whole-file compression. */
  compression: Compression;
  /** When the job was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** The exported datastream (the first one of a many-stream export). */
  datastreamId: Scalars['Long']['output'];
  /** Every exported datastream, in the request's order (one for a single-stream export). */
  datastreamIds: Array<Scalars['Long']['output']>;
  /** Every exported datastream with its exchange and instrument, in the request's order (one for a single-stream export). */
  datastreams: Array<Datastream>;
  /** Range end (exclusive). */
  endTime: Scalars['Timestamp']['output'];
  /** When its files are deleted and it becomes EXPIRED (retention); null unless it SUCCEEDED or EXPIRED, or FAILED keeping partial files (those are deleted then; the job stays FAILED). */
  expiresAt?: Maybe<Scalars['Timestamp']['output']>;
  /** When it reached a terminal state. */
  finishedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** File format. */
  format: ExportFormat;
  /** The format's options with every server default filled in: pin these to get the same files later. */
  formatOptions: Scalars['JSON']['output'];
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** The key it was created with, if any. */
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  /** Whether a failure keeps the rows written so far as partial artifacts. */
  keepPartial: Scalars['Boolean']['output'];
  /** Column selection, limit, filter, decimation and split, as resolved. */
  options: ExportJobOptions;
  /** Records read of the records in range, the fraction done, an ETA, and the rows and bytes written so far. */
  progress: ExportProgress;
  /** Why it failed or was canceled. */
  reason?: Maybe<Scalars['String']['output']>;
  /** Grows by at least one with every change to the job (status, progress, anything): of two states of the same job, the one with the higher revision is the newer. Subscriptions may send a state again (a replay with `since`); keep the higher. */
  revision: Scalars['Long']['output'];
  /** Schema snapshot the job uses. */
  schema: ExportJobSchema;
  /** Range start (inclusive). */
  startTime: Scalars['Timestamp']['output'];
  /** When a worker last started it. */
  startedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Where the job is in its lifecycle. */
  status: ExportStatus;
  /** When the job last changed: pass the greatest you have seen as `since` to `exportJobsUpdated` or `exportJobUpdated` when you reconnect. */
  updatedAt: Scalars['Timestamp']['output'];
};

/** A page of a list (Relay connection). */
export type ExportJobConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ExportJobEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ExportJobEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ExportJob;
};

/** An export's options as resolved at creation (null: not used). */
export type ExportJobOptions = {
  /** Columns renamed in the files, `[{name, label}]`. */
  columnLabels?: Maybe<Scalars['JSON']['output']>;
  /** Selected columns, in file order. */
  columns?: Maybe<Array<Scalars['String']['output']>>;
  /** Decimation with intervalNs and every default filled in. */
  decimation?: Maybe<Scalars['JSON']['output']>;
  /** Filter tree; timestamps as nanoseconds, decimals as exact text. */
  filter?: Maybe<Scalars['JSON']['output']>;
  /** LONG or WIDE. */
  layout: Scalars['String']['output'];
  /** Row limit after clamping. */
  limit?: Maybe<Scalars['Int']['output']>;
  /** How the files are split. */
  split?: Maybe<Scalars['JSON']['output']>;
  /** WIDE: every stream's label, `[{datastreamId, label}]`, in column order. */
  streamLabels?: Maybe<Scalars['JSON']['output']>;
  /** IANA zone of ISO timestamps (UTC default). */
  timezone: Scalars['String']['output'];
};

/** How a list of export jobs is sorted. */
export type ExportJobOrder =
  /** Oldest first. */
  | 'CREATED_AT_ASC'
  /** Newest first (the default). */
  | 'CREATED_AT_DESC';

/** The schema an export job runs with (a snapshot taken at creation). */
export type ExportJobSchema = {
  /** Output columns of the snapshot. */
  columns: Array<Scalars['String']['output']>;
  /** `sch_` id of the custom schema used; null for built-in/inline. */
  id?: Maybe<Scalars['ID']['output']>;
  /** Schema name at creation time. */
  name: Scalars['String']['output'];
  /** Version of the custom schema used; null for built-in/inline. */
  version?: Maybe<Scalars['Int']['output']>;
};

/** The shape of a many-stream export's rows. */
export type ExportLayout =
  /** One row per stream and time, with datastream_id, exchange and symbol columns when there are several streams (the default). */
  | 'LONG'
  /** One row per decimation bucket, a `<label>_<column>` column per stream and aggregated column (null where a stream has no rows). Needs a decimation. */
  | 'WIDE';

/** How far a job has come. Two units never mix: records are the stored input messages the export reads (`recordsRead` of `recordsTotal`, what `fraction` and `etaSeconds` are computed from); rows are what the files hold, after the schema unfolds messages (a book update gives many rows) and filters and decimation drop rows. A running job updates these about four times a second (`GATEWAY_PROGRESS_INTERVAL_SECONDS`). */
export type ExportProgress = {
  /** Bytes written to the files so far, as stored (compressed for gzip and zstd, counted as each compressed block reaches the file); the files' sizes once the job SUCCEEDED. */
  bytesWritten: Scalars['Long']['output'];
  /**
   * The same number as `recordsTotal` (input records in range, not output rows).
   * @deprecated Counts input records, not rows: use `recordsTotal` (and `fraction`).
   */
  estimatedRows: Scalars['Long']['output'];
  /** Seconds until the job should finish, at the rate it has read records since it started running; null while queued and until 1% of the records and a second have gone by; 0 once it has ended. */
  etaSeconds?: Maybe<Scalars['Float']['output']>;
  /** How much of the job is done, between 0 and 1: `recordsRead / recordsTotal`, never decreasing (not even when an attempt starts over), below 1 while the job runs and exactly 1 once it SUCCEEDED. */
  fraction: Scalars['Float']['output'];
  /** Input records (stored messages) read so far, in the same unit as `recordsTotal`. A retried attempt starts again from zero; a job in parts shows the sum of its parts'. */
  recordsRead: Scalars['Long']['output'];
  /** Input records in the job's range, counted from the segment catalog when the job was created (prorated over segments that straddle the range's ends, so `recordsRead` may end a little above or below it). */
  recordsTotal: Scalars['Long']['output'];
  /** Output rows written to the files so far (after unfolding, filters and decimation); every file's rows once the job SUCCEEDED. */
  rowsWritten: Scalars['Long']['output'];
};

/** A recurring export: a job per period [start, end) of `every`, created once the period has ended plus `delay`; exactly one per period. */
export type ExportSchedule = Node & {
  /** Which missed periods it exports. */
  catchUp: ScheduleCatchUp;
  /** When it was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** Wait after a period ends (ISO-8601 duration). */
  delay: Scalars['String']['output'];
  /** Period length (ISO-8601 duration). */
  every: Scalars['String']['output'];
  /** The export template each job is made from, with the fields of the createExport input (datastreamId, schema, format, formatOptions, columns ...). */
  export: Scalars['JSON']['output'];
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** Its name. */
  name: Scalars['String']['output'];
  /** Start of the next period to export. */
  nextPeriodStart: Scalars['Timestamp']['output'];
  /** When the next period's job will be created (its end plus the delay); null while PAUSED. */
  nextRunAt?: Maybe<Scalars['Timestamp']['output']>;
  /** The anchor: a boundary of every period. */
  periodStart: Scalars['Timestamp']['output'];
  /** Its runs, one per period already due, latest period first. */
  runs: ExportScheduleRunConnection;
  /** ACTIVE or PAUSED. */
  status: ExportScheduleStatus;
  /** IANA time zone of calendar periods. */
  timezone: Scalars['String']['output'];
  /** When it was last changed. */
  updatedAt: Scalars['Timestamp']['output'];
};


/** A recurring export: a job per period [start, end) of `every`, created once the period has ended plus `delay`; exactly one per period. */
export type ExportScheduleRunsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of a list (Relay connection). */
export type ExportScheduleConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ExportScheduleEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ExportScheduleEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ExportSchedule;
};

/** Which export schedule. */
export type ExportScheduleIdInput = {
  /** Schedule id, `rec_<32 hex>`. */
  id: Scalars['ID']['input'];
};

/** Result of a mutation on an export schedule. */
export type ExportSchedulePayload = {
  /** The schedule as it now is; null on errors. */
  exportSchedule?: Maybe<ExportSchedule>;
  /** Why nothing was done. */
  userErrors: Array<UserError>;
};

/** One period of a schedule and the job that exports it. */
export type ExportScheduleRun = {
  /** When the period was found due. */
  createdAt: Scalars['Timestamp']['output'];
  /** The period's export job; null before it exists or once deleted. */
  exportJob?: Maybe<ExportJob>;
  /** Period end (exclusive). */
  periodEnd: Scalars['Timestamp']['output'];
  /** Period start (inclusive). */
  periodStart: Scalars['Timestamp']['output'];
  /** Why it FAILED or was CANCELED. */
  reason?: Maybe<Scalars['String']['output']>;
  /** Where the run is. */
  status: ExportScheduleRunStatus;
};

/** A page of a list (Relay connection). */
export type ExportScheduleRunConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ExportScheduleRunEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ExportScheduleRunEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ExportScheduleRun;
};

/** Where one period of a schedule is. */
export type ExportScheduleRunStatus =
  /** Its job is queued or running. */
  | 'ACTIVE'
  /** Its job was canceled or deleted. */
  | 'CANCELED'
  /** Its job failed, or could not be created; see reason. */
  | 'FAILED'
  /** Due; its job is being created (or waits for the workspace's cap on active exports). */
  | 'PENDING'
  /** Its job succeeded. */
  | 'SUCCEEDED';

/** Whether a schedule creates jobs. */
export type ExportScheduleStatus =
  /** Creates a job per period. */
  | 'ACTIVE'
  /** Creates nothing; periods that end while paused are skipped. */
  | 'PAUSED';

/** How raw messages become the columns of an export. */
export type ExportSchema = {
  /** Shipped with the gateway (read-only). */
  builtin: Scalars['Boolean']['output'];
  /** Output column names, in file order. */
  columns: Array<Scalars['String']['output']>;
  /** The latest published contents. */
  definition: ExportSchemaDefinition;
  /** What the schema produces. */
  description: Scalars['String']['output'];
  /** The draft, if one is open. */
  draft?: Maybe<ExportSchemaDraft>;
  /** Source keys with a mapping; empty means every source (meta columns only). */
  exchanges: Array<Scalars['String']['output']>;
  /** `sch_...` for your own schemas (pins a schema across renames); null for built-ins. */
  id?: Maybe<Scalars['ID']['output']>;
  /** Name used in createExport's `schema`. */
  name: Scalars['String']['output'];
  /** Record kind it applies to, e.g. `trade`, `book`; `any` for raw. */
  streamCategory: Scalars['String']['output'];
  /** Latest published version of a custom schema; null for built-ins. */
  version?: Maybe<Scalars['Int']['output']>;
  /** Every published version, oldest first (built-ins: empty). */
  versions: Array<ExportSchemaVersion>;
};

/** A page of a list (Relay connection). */
export type ExportSchemaConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ExportSchemaEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** The contents of an export schema, in the schema language. */
export type ExportSchemaDefinition = {
  /** Output columns, in order. */
  columns: Array<SchemaColumn>;
  /** What the schema produces. */
  description: Scalars['String']['output'];
  /** The same definition as canonical JSON text. */
  json: Scalars['String']['output'];
  /** Per-source options. */
  sources: Array<SchemaSource>;
  /** Record kind it applies to. */
  streamCategory: Scalars['String']['output'];
};

/** The contents of an export schema. */
export type ExportSchemaDefinitionInput = {
  /** Output columns, in order. */
  columns: Array<SchemaColumnInput>;
  /** What the schema produces. */
  description?: Scalars['String']['input'];
  /** Per-source options (unfold). */
  sources?: Array<SchemaSourceInput>;
  /** e.g. `trade`, `book`, `any`. */
  streamCategory: Scalars['String']['input'];
};

/** The unpublished next version of a custom schema. */
export type ExportSchemaDraft = {
  /** Its contents. */
  definition: ExportSchemaDefinition;
  /** Last change. */
  updatedAt: Scalars['Timestamp']['output'];
};

/** An item and its cursor. */
export type ExportSchemaEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ExportSchema;
};

/** Which schema. */
export type ExportSchemaIdInput = {
  /** `sch_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of a mutation on an export schema. */
export type ExportSchemaPayload = {
  /** The schema, on success. */
  exportSchema?: Maybe<ExportSchema>;
  /** Why it failed, if it did. */
  userErrors: Array<UserError>;
};

/** What a schema would produce, first rows only. */
export type ExportSchemaPreview = {
  /** Columns, in file order. */
  columns: Array<PreviewColumn>;
  /** Values as text (timestamps as integer nanoseconds, decimals exact). */
  rows: Array<Array<Maybe<Scalars['String']['output']>>>;
  /** Why no preview could be made (bad schema, data it cannot read). */
  userErrors: Array<UserError>;
};

/** A published, immutable version of a custom schema. */
export type ExportSchemaVersion = {
  /** When it was published. */
  createdAt: Scalars['Timestamp']['output'];
  /** Its contents. */
  definition: ExportSchemaDefinition;
  /** 1, 2, ... in publishing order. */
  version: Scalars['Int']['output'];
};

/** Lifecycle of an export job. */
export type ExportStatus =
  /** Canceled on request; no files (terminal). */
  | 'CANCELED'
  /** Only in subscriptions: the job was deleted (`deleteExport`) and no longer exists; this is its last announcement, with its other fields as last seen (and `updatedAt` the time of the deletion). Replayed to a subscription resuming `since` a time before the deletion, for the retention period. */
  | 'DELETED'
  /** Succeeded, then its files were deleted at `expiresAt` (the retention period); no artifacts, and its download links no longer work (terminal). */
  | 'EXPIRED'
  /** Stopped with an error; see reason (terminal). */
  | 'FAILED'
  /** Recorded, waiting for a worker. */
  | 'QUEUED'
  /** A worker is producing the files. */
  | 'RUNNING'
  /** Files are ready (terminal). */
  | 'SUCCEEDED';

/** What to export, except when: createExport adds the time range, a schedule (createExportSchedule) adds each period's. */
export type ExportTemplateInput = {
  /** Rename output columns in the files without writing a schema (filters, columns and aggregations keep using the output names). */
  columnLabels?: InputMaybe<Array<ColumnLabelInput>>;
  /** A subset of the output columns, in the order wanted. */
  columns?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Default: GZIP for CSV and JSONL, NONE for Parquet. */
  compression?: InputMaybe<Compression>;
  /** Datastream id (`101` or `ds_101`). Exactly one of datastreamId and datastreamIds. */
  datastreamId?: InputMaybe<Scalars['ID']['input']>;
  /** Several datastreams of one stream category (at most GATEWAY_MAX_EXPORT_DATASTREAMS, default 2,000) merged in collection-time order, instead of datastreamId. The schema, filter and decimation apply to each stream; limit to the merged rows. Pass long lists as variables. */
  datastreamIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Aggregate rows into time buckets (e.g. OHLCV bars). */
  decimation?: InputMaybe<DecimationInput>;
  /** Only rows for which this holds. */
  filter?: InputMaybe<ExportFilterInput>;
  /** File format. */
  format?: ExportFormat;
  /** Options of the chosen format (CSV: delimiter, header, quoting, nullString, lineTerminator, timestampFormat; PARQUET: compression, compressionLevel, rowGroupSize, dictionary, statistics, dataPageSize; JSONL: timestampFormat, decimals). Missing keys get the server defaults, echoed on the job. */
  formatOptions?: InputMaybe<Scalars['JSON']['input']>;
  /** A schema given in full for this export only, instead of schema. */
  inlineSchema?: InputMaybe<ExportSchemaDefinitionInput>;
  /** If the job fails after writing rows, keep what it wrote as partial artifacts (complete, readable files of the rows before the failure, named `*.partial.*` and marked `partial`), downloadable for the retention period. Default: a failed job keeps no files. */
  keepPartial?: Scalars['Boolean']['input'];
  /** LONG (default) or WIDE (decimated exports). */
  layout?: InputMaybe<ExportLayout>;
  /** At most this many rows (after filters); clamped to the maximum. */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** Export schema: a built-in name (`raw`, `normalized`), one of your schemas' names, or its `sch_` id (pinned across renames). Default `raw`. Not with inlineSchema. */
  schema?: InputMaybe<Scalars['String']['input']>;
  /** Several files (by period, rows, bytes or datastream) and a manifest. */
  split?: InputMaybe<SplitInput>;
  /** Column prefixes of the WIDE layout, per datastream. */
  streamLabels?: InputMaybe<Array<StreamLabelInput>>;
  /** IANA time zone (e.g. `Europe/Paris`) of ISO timestamps (timestampFormat iso: `2024-01-15T09:00:00+01:00`) and of Parquet timestamp columns. Default UTC. */
  timezone?: InputMaybe<Scalars['String']['input']>;
};

/** How a filter condition compares a column with its value. */
export type FilterOp =
  /** String column contains the text. */
  | 'contains'
  /** Equal. */
  | 'eq'
  /** Greater than. */
  | 'gt'
  /** Greater than or equal. */
  | 'gte'
  /** One of a list of values. */
  | 'in'
  /** Is null (value true or absent) or not (false). */
  | 'isNull'
  /** Less than. */
  | 'lt'
  /** Less than or equal. */
  | 'lte'
  /** Not equal (nulls never match). */
  | 'ne'
  /** None of a list of values (nulls never match). */
  | 'notIn'
  /** String column starts with the text. */
  | 'startsWith';

/** What an import does with a record it cannot read. */
export type ImportErrorPolicy =
  /** Fail the import, naming the line; nothing is stored. */
  | 'ABORT'
  /** Leave the record out and list it, with its line and reason, in the job's rejected-records report. Problems of the file itself (a wrong CSV header, bytes that are not UTF-8, a truncated gzip stream) still fail the import. */
  | 'SKIP';

/** A file's records read into a datastream, as a job. */
export type ImportJob = Node & {
  /** How many times a worker has started it. */
  attempts: Scalars['Int']['output'];
  /** When the job was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** Where the records go. */
  datastreamId: Scalars['Long']['output'];
  /** The uploaded file's name. */
  filename: Scalars['String']['output'];
  /** When it reached a terminal state. */
  finishedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Store even if the same bytes were stored. */
  force: Scalars['Boolean']['output'];
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** The key it was started with. */
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  /** Said on success, e.g. that the same bytes were stored before (nothing stored again), or that the records do not look like the datastream's wire format. */
  note?: Maybe<Scalars['String']['output']>;
  /** What happens to unreadable records. */
  onError: ImportErrorPolicy;
  /** Bytes and records read so far. */
  progress: ImportProgress;
  /** Why it failed or was canceled. */
  reason?: Maybe<Scalars['String']['output']>;
  /** The records left out (onError: SKIP); null if none were. */
  rejectedRecords?: Maybe<RejectedRecordsReport>;
  /** When a worker last started it. */
  startedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Where the job is in its lifecycle. */
  status: ImportStatus;
};

/** A page of a list (Relay connection). */
export type ImportJobConnection = {
  /** The items of this page, with cursors. */
  edges: Array<ImportJobEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type ImportJobEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: ImportJob;
};

/** Which import job. */
export type ImportJobIdInput = {
  /** `imp_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of a change to an import job. */
export type ImportJobPayload = {
  /** The job; null on error. */
  importJob?: Maybe<ImportJob>;
  /** Why it was refused. */
  userErrors: Array<UserError>;
};

/** How far an import has read its file. */
export type ImportProgress = {
  /** Size of the file. */
  byteSize: Scalars['Long']['output'];
  /** Bytes of the file read so far (as uploaded: compressed bytes for .gz). */
  bytesRead: Scalars['Long']['output'];
  /** Records read, rejected ones included. */
  recordsRead: Scalars['Long']['output'];
  /** Records left out (onError: SKIP). */
  recordsRejected: Scalars['Long']['output'];
  /** Records stored (visible once the job SUCCEEDED). */
  recordsStored: Scalars['Long']['output'];
};

/** Import a file sent with this request (a multipart request per the GraphQL multipart request spec); for large files use createImportUpload. */
export type ImportRecordsInput = {
  /** Datastream id (`101` or `ds_101`); it must exist. */
  datastreamId: Scalars['ID']['input'];
  /** The file; its name's suffix gives the format. */
  file: Scalars['Upload']['input'];
  /** Store the records even if the same bytes were stored. */
  force?: Scalars['Boolean']['input'];
  /** Retry-safe key: the same key and the same file return the same job. */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** What happens to a record that cannot be read. */
  onError?: ImportErrorPolicy;
};

/** A file of resources to import (upsert): with the request (multipart) as `file`, or uploaded before (createImportUpload, then its PUT) as `uploadId`. */
export type ImportResourcesInput = {
  /** Check and count, but write nothing (an upload is kept). */
  dryRun?: Scalars['Boolean']['input'];
  /** The file, as a part of a multipart request (the GraphQL multipart request spec). Give this or uploadId. */
  file?: InputMaybe<Scalars['Upload']['input']>;
  /** CSV or JSON; by default from the file name (.csv, .json). */
  format?: InputMaybe<ResourceFormat>;
  /** The column that identifies an existing entry: `code` (exchanges), `symbol` (instruments: with exchange and type), `datastream_id`, `name` (export schemas: with version; export schedules), `url` (webhooks). Default: that one; any other is INVALID_ARGUMENT. */
  identifierColumn?: InputMaybe<Scalars['String']['input']>;
  /** What rejected rows do to the import. */
  onError?: ResourceErrorPolicy;
  /** What the file holds. */
  resource: ResourceKind;
  /** `upl_...` id of an upload whose file was PUT; the import that writes from it removes it. Give this or file. */
  uploadId?: InputMaybe<Scalars['ID']['input']>;
};

/** Result of importResources. */
export type ImportResourcesPayload = {
  /** Whether the changes were saved: false for a dry run, for ABORT when a row was rejected, and on userErrors. */
  applied: Scalars['Boolean']['output'];
  /** Rows that created an entry. */
  created: Scalars['Int']['output'];
  /** Why, ordered by line, one entry per problem; at most the first 1,000. */
  rejected: Array<ResourceRejection>;
  /** Rows not imported (all of them when the header lacks a required column). */
  rejectedRows: Scalars['Int']['output'];
  /** Rows equal to the entry they identify. */
  unchanged: Scalars['Int']['output'];
  /** Rows that changed an entry. */
  updated: Scalars['Int']['output'];
  /** Why the file could not be imported at all (role, not UTF-8, not a JSON array, too large, a bad upload). */
  userErrors: Array<UserError>;
};

/** Lifecycle of an import job. */
export type ImportStatus =
  /** Canceled on request; nothing stored (terminal). */
  | 'CANCELED'
  /** Stopped with an error (see reason); nothing stored (terminal). */
  | 'FAILED'
  /** Recorded, waiting for a worker. */
  | 'QUEUED'
  /** A worker is reading the file. */
  | 'RUNNING'
  /** Its records are stored, all at once (terminal); see note and progress. */
  | 'SUCCEEDED';

/** A place for one file: PUT its bytes to `url` (no API key needed; Content-Length required), then startImport with this id. */
export type ImportUpload = {
  /** Until when the URL takes the PUT. */
  expiresAt: Scalars['Timestamp']['output'];
  /** The file's name; its suffix gives the format. */
  filename: Scalars['String']['output'];
  /** `upl_...` id, for startImport. */
  id: Scalars['ID']['output'];
  /** The largest file the URL accepts. */
  maxBytes: Scalars['Long']['output'];
  /** Signed URL that takes one PUT of the file. */
  url: Scalars['String']['output'];
};

/** Result of createImportUpload. */
export type ImportUploadPayload = {
  /** Where to PUT the file; null on error. */
  upload?: Maybe<ImportUpload>;
  /** Why no upload was created. */
  userErrors: Array<UserError>;
};

/** A tradable instrument on an exchange (`ins_<id>`). */
export type Instrument = Node & {
  /** Delisted: hidden from listings unless asked for; its datastreams and their records stay. */
  archived: Scalars['Boolean']['output'];
  /** Base asset, e.g. `BTC`. */
  base: Scalars['String']['output'];
  /** Its datastreams (archived or not), ordered by id. */
  datastreams: Array<Datastream>;
  /** Exchange code. */
  exchange: Scalars['String']['output'];
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** Quote asset, e.g. `USDT`. */
  quote: Scalars['String']['output'];
  /** Exchange symbol, e.g. `BTCUSDT`. */
  symbol: Scalars['String']['output'];
  /** Market type, e.g. `spot` or `linear`. */
  type: Scalars['String']['output'];
};

/** A page of a list (Relay connection). */
export type InstrumentConnection = {
  /** The items of this page, with cursors. */
  edges: Array<InstrumentEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type InstrumentEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Instrument;
};

/** Result of registerInstrument and updateInstrument. */
export type InstrumentPayload = {
  /** The instrument as registered (or as it already was). */
  instrument?: Maybe<Instrument>;
  /** Why nothing was registered or changed. */
  userErrors: Array<UserError>;
};

/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type Mutation = {
  /** Cancel a queued or running job; a running one stops within a second or two and leaves no files. */
  cancelExport: CancelExportPayload;
  /** Stop a queued or running import; nothing of it is stored. */
  cancelImport: ImportJobPayload;
  /** Create an API key; its token is in the payload, this once. */
  createApiKey: CreateApiKeyPayload;
  /** Subscribe your workspace to a datastream: the service starts collecting it live from the exchange (one connection, shared with other workspaces). */
  createCollectionSubscription: CollectionSubscriptionPayload;
  /** Email recipients on events, with subject and text templates. */
  createEmailNotification: EmailNotificationPayload;
  /** Start an export job. It runs asynchronously: follow it with `exportJobUpdated` or poll `exportJob`. */
  createExport: CreateExportPayload;
  /** Export a datastream every period: a job per period once it has ended plus the delay, exactly one per period. The export template is checked as createExport checks its input (problems under `input.export`). */
  createExportSchedule: ExportSchedulePayload;
  /** Create a schema, published as version 1. */
  createExportSchema: ExportSchemaPayload;
  /** Open a draft, a copy of the latest version; one at a time. */
  createExportSchemaDraft: ExportSchemaPayload;
  /** A signed URL to PUT a file to (large files go straight to storage), then startImport with the upload's id. */
  createImportUpload: ImportUploadPayload;
  /** Create a webhook; its secret is in the payload, this once. */
  createWebhook: WebhookPayload;
  /** Delete a subscription and its spans; the records collected stay stored. */
  deleteCollectionSubscription: DeleteCollectionSubscriptionPayload;
  /** Delete an email notification. */
  deleteEmailNotification: DeleteNotificationPayload;
  /** Delete a job and its files at once, in any state: a queued or running job is stopped first (as by cancelExport). Its download links stop working and it no longer appears anywhere. */
  deleteExport: DeleteExportPayload;
  /** Delete a schedule and its runs; the jobs it created stay. */
  deleteExportSchedule: DeleteExportSchedulePayload;
  /** Delete a schema and its versions; exports keep their snapshots. */
  deleteExportSchema: DeleteExportSchemaPayload;
  /** Delete a webhook; its pending deliveries fail. */
  deleteWebhook: DeleteNotificationPayload;
  /** Throw the draft away. */
  discardExportSchemaDraft: ExportSchemaPayload;
  /** Import a file sent with this request (multipart) into a datastream, as a job. */
  importRecords: ImportJobPayload;
  /** Import a CSV or JSON file of resources, synchronously, as an upsert: a row creates the entry it identifies, updates it where it differs, or leaves it unchanged. ADMIN for the catalog and webhooks, MEMBER for export schemas and schedules; at most 10 MiB and 100,000 rows. */
  importResources: ImportResourcesPayload;
  /** Stop collecting for this subscription; its open span ends. */
  pauseCollectionSubscription: CollectionSubscriptionPayload;
  /** Stop creating jobs until resumed. */
  pauseExportSchedule: ExportSchedulePayload;
  /** Publish the draft as the next version. Existing exports keep the version they were created with. */
  publishExportSchemaDraft: ExportSchemaPayload;
  /** Send a delivery again now, with the same event id. */
  redeliverWebhook: WebhookDeliveryPayload;
  /** Register a datastream of an instrument. The same id with the same attributes again returns it; with others it is a CONFLICT naming each. */
  registerDatastream: DatastreamPayload;
  /** Register an instrument, and its exchange if new. Registering the same exchange, symbol and type again returns it; with another base or quote it is a CONFLICT. */
  registerInstrument: InstrumentPayload;
  /** Rename a schema; its id, versions and exports are unchanged. */
  renameExportSchema: ExportSchemaPayload;
  /** Collect again (from ERROR too); a new span opens. */
  resumeCollectionSubscription: CollectionSubscriptionPayload;
  /** Create jobs again, from the next period to end: periods that ended while paused are skipped. */
  resumeExportSchedule: ExportSchedulePayload;
  /** Revoke a key: its next request is UNAUTHENTICATED. */
  revokeApiKey: RevokeApiKeyPayload;
  /** Import an uploaded file into a datastream, as a job. */
  startImport: ImportJobPayload;
  /** Send a `webhook.ping` event to this webhook now. */
  testWebhook: WebhookDeliveryPayload;
  /** Change a datastream's wire format or source. */
  updateDatastream: DatastreamPayload;
  /** Change an email notification. */
  updateEmailNotification: EmailNotificationPayload;
  /** Change a schedule; periods already exported are not exported again. */
  updateExportSchedule: ExportSchedulePayload;
  /** Replace the draft's contents; repeatable. */
  updateExportSchemaDraft: ExportSchemaPayload;
  /** Archive a delisted instrument (or list it again), or fix its assets. */
  updateInstrument: InstrumentPayload;
  /** Change a webhook (URL, events, enabled) or rotate its secret. */
  updateWebhook: WebhookPayload;
  /** Change the workspace's per-key rate limits. */
  updateWorkspaceSettings: UpdateWorkspaceSettingsPayload;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCancelExportArgs = {
  input: CancelExportInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCancelImportArgs = {
  input: ImportJobIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateApiKeyArgs = {
  input: CreateApiKeyInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateCollectionSubscriptionArgs = {
  input: CreateCollectionSubscriptionInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateEmailNotificationArgs = {
  input: CreateEmailNotificationInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateExportArgs = {
  input: CreateExportInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateExportScheduleArgs = {
  input: CreateExportScheduleInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateExportSchemaArgs = {
  input: CreateExportSchemaInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateExportSchemaDraftArgs = {
  input: ExportSchemaIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateImportUploadArgs = {
  input: CreateImportUploadInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationCreateWebhookArgs = {
  input: CreateWebhookInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteCollectionSubscriptionArgs = {
  input: CollectionSubscriptionIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteEmailNotificationArgs = {
  input: EmailNotificationIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteExportArgs = {
  input: DeleteExportInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteExportScheduleArgs = {
  input: ExportScheduleIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteExportSchemaArgs = {
  input: ExportSchemaIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDeleteWebhookArgs = {
  input: WebhookIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationDiscardExportSchemaDraftArgs = {
  input: ExportSchemaIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationImportRecordsArgs = {
  input: ImportRecordsInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationImportResourcesArgs = {
  input: ImportResourcesInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationPauseCollectionSubscriptionArgs = {
  input: CollectionSubscriptionIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationPauseExportScheduleArgs = {
  input: ExportScheduleIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationPublishExportSchemaDraftArgs = {
  input: ExportSchemaIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationRedeliverWebhookArgs = {
  input: RedeliverWebhookInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationRegisterDatastreamArgs = {
  input: RegisterDatastreamInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationRegisterInstrumentArgs = {
  input: RegisterInstrumentInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationRenameExportSchemaArgs = {
  input: RenameExportSchemaInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationResumeCollectionSubscriptionArgs = {
  input: CollectionSubscriptionIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationResumeExportScheduleArgs = {
  input: ExportScheduleIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationRevokeApiKeyArgs = {
  input: RevokeApiKeyInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationStartImportArgs = {
  input: StartImportInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationTestWebhookArgs = {
  input: WebhookIdInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateDatastreamArgs = {
  input: UpdateDatastreamInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateEmailNotificationArgs = {
  input: UpdateEmailNotificationInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateExportScheduleArgs = {
  input: UpdateExportScheduleInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateExportSchemaDraftArgs = {
  input: UpdateExportSchemaDraftInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateInstrumentArgs = {
  input: UpdateInstrumentInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateWebhookArgs = {
  input: UpdateWebhookInput;
};


/** Create and control export and import jobs, export schemas, collection, the catalog and keys; import resources from files. */
export type MutationUpdateWorkspaceSettingsArgs = {
  input: UpdateWorkspaceSettingsInput;
};

/** An object with a globally unique, prefixed, opaque ID. */
export type Node = {
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
};

/** What happened; the `type` of a webhook's JSON body. */
export type NotificationEvent =
  /** `collection.error`: a collection subscription went to ERROR. */
  | 'COLLECTION_ERROR'
  /** `export.canceled`: canceled on request. */
  | 'EXPORT_CANCELED'
  /** `export.expired`: its files were deleted (retention). */
  | 'EXPORT_EXPIRED'
  /** `export.failed`: stopped with an error (see reason). */
  | 'EXPORT_FAILED'
  /** `export.succeeded`: files ready, with download URLs. */
  | 'EXPORT_SUCCEEDED'
  /** `import.canceled`: canceled on request. */
  | 'IMPORT_CANCELED'
  /** `import.failed`: nothing was stored (see reason). */
  | 'IMPORT_FAILED'
  /** `import.succeeded`: the records are stored. */
  | 'IMPORT_SUCCEEDED'
  /** `schedule.run_failed`: a scheduled run failed. */
  | 'SCHEDULE_RUN_FAILED';

/** When an email notification is sent, among its events. */
export type NotificationPolicy =
  /** For every event it lists. */
  | 'ALWAYS'
  /** Only for failures (export.failed, import.failed, schedule.run_failed, collection.error). */
  | 'ON_FAILURE'
  /** Only for successes (export.succeeded, import.succeeded). */
  | 'ON_SUCCESS';

/** What a value that cannot be converted to the column's type does. */
export type OnError =
  /** Fail the job, naming column and record. */
  | 'FAIL'
  /** Becomes null. */
  | 'NULL';

/** Relay pagination information. */
export type PageInfo = {
  /** Cursor of the last edge; pass as `after`. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether more items follow the last edge. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede the first edge. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first edge. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** A column of a preview. */
export type PreviewColumn = {
  /** Output column name. */
  name: Scalars['String']['output'];
  /** Its type, e.g. `decimal(18)`, `timestamp`. */
  type: Scalars['String']['output'];
};

/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type Query = {
  /** The workspace's API keys, oldest first (ADMIN only). */
  apiKeys: ApiKeyConnection;
  /** Time ranges that hold data for a datastream. */
  availability?: Maybe<Availability>;
  /** One of your collection subscriptions; null if not yours. */
  collectionSubscription?: Maybe<CollectionSubscription>;
  /** Your collection subscriptions, oldest first. */
  collectionSubscriptions: CollectionSubscriptionConnection;
  /** One datastream by id (`101` or `ds_101`); null if unknown. */
  datastream?: Maybe<Datastream>;
  /** Datastreams, filtered; ordered by id. Those of archived instruments only with includeArchived (each still resolves by its id). */
  datastreams: DatastreamConnection;
  /** One email notification; null if there is none with this id. */
  emailNotification?: Maybe<EmailNotification>;
  /** The workspace's email notifications, oldest first. */
  emailNotifications: EmailNotificationConnection;
  /** Estimate the rows and bytes of an export (from the segment catalog and a small sample) without creating a job, so a dashboard can warn about huge requests. */
  estimateExport: ExportEstimate;
  /** Exchanges, ordered by code. */
  exchanges: ExchangeConnection;
  /** One of your export jobs; null if it does not exist or is not yours. */
  exportJob?: Maybe<ExportJob>;
  /** Your export jobs, filtered (all conditions hold), newest first unless orderBy says otherwise. */
  exportJobs: ExportJobConnection;
  /** Resources as one CSV or JSON file (at most 100,000 rows), to import into this or another gateway with importResources. Any key may export. */
  exportResources: ResourceExport;
  /** One of your export schedules, with its runs and next run time; null if it does not exist or is not yours. */
  exportSchedule?: Maybe<ExportSchedule>;
  /** Your export schedules, oldest first. */
  exportSchedules: ExportScheduleConnection;
  /** One schema by `sch_` id or by name (built-in or yours). */
  exportSchema?: Maybe<ExportSchema>;
  /** Export schemas usable in createExport: the built-ins first, then yours by name. */
  exportSchemas: ExportSchemaConnection;
  /** One of your import jobs; null if not yours. */
  importJob?: Maybe<ImportJob>;
  /** Your import jobs, newest first. */
  importJobs: ImportJobConnection;
  /** Instruments, filtered (all given conditions hold); ordered by exchange, symbol, type and id. */
  instruments: InstrumentConnection;
  /** Any object by its prefixed ID (`exp_...`, `imp_...`, `ds_...`, `ins_...`, `sub_...`, `rec_...`, `whk_...`, `eml_...`, and `key_...` for admins). */
  node?: Maybe<Node>;
  /** The first rows a schema (saved, or given inline while editing) produces on a datastream, without creating a job. */
  previewExportSchema: ExportSchemaPreview;
  /** The key this request was made with, and its workspace. */
  viewer: Viewer;
  /** One webhook; null if there is none with this id. */
  webhook?: Maybe<Webhook>;
  /** A webhook's deliveries, newest first: attempts, status codes, latency, next retry, last error. */
  webhookDeliveries: WebhookDeliveryConnection;
  /** The workspace's webhooks, oldest first (secrets not shown). */
  webhooks: WebhookConnection;
  /** The wire formats the gateway collects and normalizes; a datastream's wireFormat is one of these or `custom`. */
  wireFormats: Array<WireFormat>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryApiKeysArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  includeRevoked?: Scalars['Boolean']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryAvailabilityArgs = {
  datastreamId: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryCollectionSubscriptionArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryCollectionSubscriptionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<CollectionStatus>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryDatastreamArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryDatastreamsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  exchange?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  includeArchived?: Scalars['Boolean']['input'];
  instrument?: InputMaybe<Scalars['String']['input']>;
  streamType?: InputMaybe<Scalars['String']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryEmailNotificationArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryEmailNotificationsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryEstimateExportArgs = {
  input: CreateExportInput;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExchangesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportJobArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  createdAfter?: InputMaybe<Scalars['Timestamp']['input']>;
  createdBefore?: InputMaybe<Scalars['Timestamp']['input']>;
  datastreamId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  format?: InputMaybe<ExportFormat>;
  orderBy?: ExportJobOrder;
  status?: InputMaybe<ExportStatus>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportResourcesArgs = {
  filter?: InputMaybe<Scalars['String']['input']>;
  format?: ResourceFormat;
  includeArchived?: Scalars['Boolean']['input'];
  resource: ResourceKind;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportScheduleArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportSchedulesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<ExportScheduleStatus>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportSchemaArgs = {
  id?: InputMaybe<Scalars['ID']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryExportSchemasArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  streamCategory?: InputMaybe<Scalars['String']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryImportJobArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryImportJobsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datastreamId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<ImportStatus>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryInstrumentsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  exchange?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  includeArchived?: Scalars['Boolean']['input'];
  search?: InputMaybe<Scalars['String']['input']>;
  type?: InputMaybe<Scalars['String']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryPreviewExportSchemaArgs = {
  datastreamId: Scalars['ID']['input'];
  inlineSchema?: InputMaybe<ExportSchemaDefinitionInput>;
  limit?: Scalars['Int']['input'];
  schema?: InputMaybe<Scalars['String']['input']>;
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryWebhookArgs = {
  id: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryWebhookDeliveriesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  webhookId: Scalars['ID']['input'];
};


/** Read the catalog, schemas, availability, your export and import jobs and recurring exports; export resources to files. */
export type QueryWebhooksArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Which delivery to send again. */
export type RedeliverWebhookInput = {
  /** `dlv_...` id. */
  deliveryId: Scalars['ID']['input'];
};

/** A datastream to register, of a registered instrument. */
export type RegisterDatastreamInput = {
  /** Its id, chosen by you: a positive 64-bit integer (`101` or `ds_101`). */
  datastreamId: Scalars['ID']['input'];
  /** `ins_...` id. */
  instrumentId: Scalars['ID']['input'];
  /** Where it comes from: a feed URL or topic (1 to 2000). */
  source?: InputMaybe<Scalars['String']['input']>;
  /** Kind of records, e.g. `trades` or `book` (1 to 32 characters). */
  streamType: Scalars['String']['input'];
  /** A known wire format (see `wireFormats`) of this stream type, or `custom`. */
  wireFormat: Scalars['String']['input'];
};

/** An instrument to register (and its exchange, if new). */
export type RegisterInstrumentInput = {
  /** Base asset, e.g. `BTC` (at most 32). */
  base: Scalars['String']['input'];
  /** Exchange code: 1 to 64 of a-z, 0-9, `_`, `.` and `-`, e.g. `binance`. */
  exchange: Scalars['String']['input'];
  /** The exchange's name for people (1 to 200 characters), used when the exchange is new; default its code, titled. Must match if the exchange exists. */
  exchangeDisplayName?: InputMaybe<Scalars['String']['input']>;
  /** Quote asset, e.g. `USDT` (at most 32). */
  quote: Scalars['String']['input'];
  /** Exchange symbol, e.g. `BTCUSDT` (1 to 64). */
  symbol: Scalars['String']['input'];
  /** Market type, e.g. `spot` or `linear` (1 to 32). */
  type: Scalars['String']['input'];
};

/** The records an import left out: a CSV of line, reason, record. */
export type RejectedRecordsReport = {
  /** Size of the report. */
  byteSize: Scalars['Long']['output'];
  /** When the report is deleted. */
  keptUntil: Scalars['Timestamp']['output'];
  /** Signed download link; no API key needed. With files in an object store and STORAGE_DOWNLOADS=presigned, the store's presigned URL. */
  url: Scalars['String']['output'];
  /** When this link stops working. */
  urlExpiresAt: Scalars['Timestamp']['output'];
};

/** A new name for a schema. */
export type RenameExportSchemaInput = {
  /** `sch_...` id. */
  id: Scalars['ID']['input'];
  /** The new name. */
  name: Scalars['String']['input'];
};

/** What an import does when rows are rejected. */
export type ResourceErrorPolicy =
  /** Write nothing if any row is rejected; every rejection is still reported. */
  | 'ABORT'
  /** Write the good rows, leave the rejected ones out and report them. */
  | 'SKIP';

/** Resources as a file. */
export type ResourceExport = {
  /** The file itself. */
  content?: Maybe<Scalars['String']['output']>;
  /** Its media type, e.g. `text/csv; charset=utf-8`. */
  contentType?: Maybe<Scalars['String']['output']>;
  /** A name for the file, e.g. `instruments.csv`; null on error. */
  filename?: Maybe<Scalars['String']['output']>;
  /** Rows in the file (header not counted). */
  rowCount?: Maybe<Scalars['Int']['output']>;
  /** Why there is no file (a filter too long, too many rows). */
  userErrors: Array<UserError>;
};

/** The format of a resource file. */
export type ResourceFormat =
  /** UTF-8 CSV with a header row; JSON values (definitions, templates, event lists) as JSON text in their cells. Importing ignores columns it does not know. */
  | 'CSV'
  /** A JSON array of objects, one per row, keyed by column. */
  | 'JSON';

/** What can be exported to a file and imported from one, to back up, rebuild or clone a gateway. Files name things as every gateway does (exchange codes, symbols, datastream ids, schema names), never by internal ids. */
export type ResourceKind =
  /** The catalog's datastreams. Columns: datastream_id, exchange, symbol, instrument_type (the instrument's), stream_type, wire_format, source. Identified by datastream_id. */
  | 'DATASTREAMS'
  /** The catalog's exchanges. Columns: code, display_name. Identified by code. */
  | 'EXCHANGES'
  /** Your workspace's export schedules. Columns: name, status (ACTIVE or PAUSED), every, period_start, timezone, delay, catch_up, export (the template as exportSchedule shows it: JSON, as JSON text in CSV), next_period_start (the next period to export). Identified by name; a name several schedules share is rejected. Rows are checked as createExportSchedule (updateExportSchedule) checks its input; status pauses or resumes. A schedule created from a row with next_period_start starts there: periods before it are not exported (again). Importing needs MEMBER. */
  | 'EXPORT_SCHEDULES'
  /** Your workspace's export schemas, one row per published version. Columns: name, version, stream_category, description, definition (the schema language's JSON). Identified by name and version (identifierColumn `name`). */
  | 'EXPORT_SCHEMAS'
  /** The catalog's instruments. Columns: exchange, symbol, base, quote, type, archived. Identified by exchange, symbol and type (identifierColumn `symbol`). */
  | 'INSTRUMENTS'
  /** Your workspace's webhooks. Columns: url, events (a JSON array of names as `webhooks` shows them, EXPORT_SUCCEEDED, or as webhook bodies do, export.succeeded; in CSV its JSON text or names separated by commas), description, enabled. Identified by url; a url several webhooks share is rejected. Secrets are never exported: a new webhook gets the optional `secret` column's value, else a generated secret to read with updateWebhook(rotateSecret: true); an existing one keeps its secret. URLs are checked as createWebhook checks them. Importing needs ADMIN. */
  | 'WEBHOOKS';

/** A row of an imported file that was not imported, and why. */
export type ResourceRejection = {
  /** The column at fault; null when the row as a whole is. */
  field?: Maybe<Scalars['String']['output']>;
  /** CSV: the line in the file (the header is line 1, the first row line 2). JSON: the object's position in the array, from 1. */
  line: Scalars['Int']['output'];
  /** What is wrong. */
  reason: Scalars['String']['output'];
};

/** Which key to revoke. */
export type RevokeApiKeyInput = {
  /** `key_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of revokeApiKey. */
export type RevokeApiKeyPayload = {
  /** The key, revoked. */
  apiKey?: Maybe<ApiKey>;
  /** Why it was not revoked. */
  userErrors: Array<UserError>;
};

/** Which missed periods a schedule exports after downtime. */
export type ScheduleCatchUp =
  /** Every missed period, oldest first. */
  | 'ALL'
  /** Only the latest missed period; earlier ones are skipped. */
  | 'LATEST';

/** One output column. */
export type SchemaColumn = {
  /** Per-source mappings. */
  data?: Maybe<Array<ColumnMapping>>;
  /** What it holds. */
  description?: Maybe<Scalars['String']['output']>;
  /** Time format of a timestamp meta column. */
  format?: Maybe<Scalars['String']['output']>;
  /** Record attribute, for meta columns. */
  meta?: Maybe<Scalars['String']['output']>;
  /** Column name in the file. */
  outputColumn: Scalars['String']['output'];
};

/** One output column: exactly one of `meta` and `data`. */
export type SchemaColumnInput = {
  /** Per-source mappings. */
  data?: InputMaybe<Array<ColumnMappingInput>>;
  /** What it holds. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** For collection_timestamp_ns: timestamp (default), ns, us, ms or iso. */
  format?: InputMaybe<Scalars['String']['input']>;
  /** Record attribute: collection_timestamp_ns, data, exchange, market, symbol, datastream_id, unfold_tag. */
  meta?: InputMaybe<Scalars['String']['input']>;
  /** Column name in the file. */
  outputColumn: Scalars['String']['input'];
};

/** Per-source options. */
export type SchemaSource = {
  /** Exchange code or exchange_market. */
  source: Scalars['String']['output'];
  /** Arrays unfolded, in order. */
  unfold: Array<UnfoldPath>;
};

/** Per-source options. */
export type SchemaSourceInput = {
  /** Exchange code (`binance`) or exchange_market (`bybit_linear`). */
  source: Scalars['String']['input'];
  /** Arrays to unfold; their rows are interleaved in message order. */
  unfold: Array<UnfoldPathInput>;
};

/** Why a span of collection ended. */
export type SpanEndReason =
  /** The collector stopped renewing its lease (it died); another took over. */
  | 'COLLECTOR_LOST'
  /** The exchange feed dropped; a reconnect opens a new span. */
  | 'DISCONNECTED'
  /** The feed could not be collected. */
  | 'ERROR'
  /** The subscription was paused. */
  | 'PAUSED'
  /** The collector shut down cleanly, or nobody wanted the feed. */
  | 'STOPPED';

/** Many files instead of one, plus a JSON manifest listing them. */
export type SplitInput = {
  /** Period per file. */
  by?: InputMaybe<SplitPeriod>;
  /** Start a new file once this size is reached (a file passes it by less than one row; Parquet adds its footer). */
  maxBytesPerFile?: InputMaybe<Scalars['Long']['input']>;
  /** Start a new file after this many rows. */
  maxRowsPerFile?: InputMaybe<Scalars['Int']['input']>;
  /** One file per datastream of a many-stream export (each listed in the manifest with its datastreamId); combines with by, maxRowsPerFile and maxBytesPerFile. Not with layout WIDE. */
  perDatastream?: Scalars['Boolean']['input'];
};

/** Calendar period per file (UTC; weeks start on Monday). */
export type SplitPeriod =
  /** One file per day. */
  | 'DAY'
  /** One file per hour. */
  | 'HOUR'
  /** One file per month. */
  | 'MONTH'
  /** One file per ISO week. */
  | 'WEEK';

/** Import an uploaded file into a datastream. */
export type StartImportInput = {
  /** Datastream id (`101` or `ds_101`); it must exist. */
  datastreamId: Scalars['ID']['input'];
  /** Store the records even if the same bytes were stored. */
  force?: Scalars['Boolean']['input'];
  /** Retry-safe key: the same key returns the same job (1 to 200 characters). */
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  /** What happens to a record that cannot be read. */
  onError?: ImportErrorPolicy;
  /** `upl_...` id of the upload. */
  uploadId: Scalars['ID']['input'];
};

/** The name a stream's columns get in the WIDE layout. */
export type StreamLabelInput = {
  /** One of the exported datastreams. */
  datastreamId: Scalars['Long']['input'];
  /** Prefix of its columns (`<label>_<column>`), 1 to 100 characters; default: the datastream id. */
  label: Scalars['String']['input'];
};

/** Live updates. */
export type Subscription = {
  /** A subscription's current state first, then every change of its status or spans (a span opening or ending); completes when it is deleted. */
  collectionSubscriptionUpdated: CollectionSubscription;
  /** The job's current state first, then every status change and progress update (about four a second while it runs, see `GATEWAY_PROGRESS_INTERVAL_SECONDS`); completes after a terminal state, or after announcing the job's deletion (status DELETED). */
  exportJobUpdated: ExportJob;
  /** Every change (status or progress) to any of your jobs that matches the filters, for dashboards: new jobs as they are created (QUEUED), progress about four times a second per running job, and deletions (status DELETED, whatever the status filter). Starts with the current state of your queued and running jobs; with `since`, also with every job changed or deleted since then, so a reconnecting dashboard misses nothing. Never completes. */
  exportJobsUpdated: ExportJob;
  /** The job's current state first, then every status change and progress update; completes after a terminal state. */
  importJobUpdated: ImportJob;
};


/** Live updates. */
export type SubscriptionCollectionSubscriptionUpdatedArgs = {
  id: Scalars['ID']['input'];
};


/** Live updates. */
export type SubscriptionExportJobUpdatedArgs = {
  id: Scalars['ID']['input'];
  since?: InputMaybe<Scalars['Timestamp']['input']>;
};


/** Live updates. */
export type SubscriptionExportJobsUpdatedArgs = {
  datastreamId?: InputMaybe<Scalars['ID']['input']>;
  since?: InputMaybe<Scalars['Timestamp']['input']>;
  status?: InputMaybe<ExportStatus>;
};


/** Live updates. */
export type SubscriptionImportJobUpdatedArgs = {
  id: Scalars['ID']['input'];
};

/** One array unfolded into rows. */
export type UnfoldPath = {
  /** JSON path of the array. */
  path: Scalars['String']['output'];
  /** Value of meta `unfold_tag` for its rows. */
  tag?: Maybe<Scalars['String']['output']>;
};

/** One array to unfold into one row per element. */
export type UnfoldPathInput = {
  /** JSON path of the array, e.g. `data` or `data.b`. */
  path: Scalars['String']['input'];
  /** Value of meta column `unfold_tag` for rows of this array. */
  tag?: InputMaybe<Scalars['String']['input']>;
};

/** Changes to a datastream; what is left out stays as it is. */
export type UpdateDatastreamInput = {
  /** Datastream id (`101` or `ds_101`). */
  id: Scalars['ID']['input'];
  /** Where it comes from (1 to 2000 characters); null forgets it. */
  source?: InputMaybe<Scalars['String']['input']>;
  /** A known wire format of the datastream's stream type, or `custom`. */
  wireFormat?: InputMaybe<Scalars['String']['input']>;
};

/** Changes to an email notification; null leaves a field as it is. */
export type UpdateEmailNotificationInput = {
  /** Pause or resume it. */
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** New list of events. */
  events?: InputMaybe<Array<NotificationEvent>>;
  /** `eml_...` id. */
  id: Scalars['ID']['input'];
  /** New policy. */
  policy?: InputMaybe<NotificationPolicy>;
  /** New recipients. */
  recipients?: InputMaybe<Array<Scalars['String']['input']>>;
  /** New subject template. */
  subject?: InputMaybe<Scalars['String']['input']>;
  /** New body template. */
  text?: InputMaybe<Scalars['String']['input']>;
};

/** Change a schedule: omitted fields keep their value. Applies to periods whose job is not created yet; periods already exported are never exported again. */
export type UpdateExportScheduleInput = {
  /** New catch-up policy. */
  catchUp?: InputMaybe<ScheduleCatchUp>;
  /** New delay. */
  delay?: InputMaybe<Scalars['String']['input']>;
  /** New period length. */
  every?: InputMaybe<Scalars['String']['input']>;
  /** New export template (replaces the old one whole). */
  export?: InputMaybe<ExportTemplateInput>;
  /** Schedule id, `rec_<32 hex>`. */
  id: Scalars['ID']['input'];
  /** New name. */
  name?: InputMaybe<Scalars['String']['input']>;
  /** New anchor of the periods; the next period is the first one starting at or after both this and the end of the last period already created. */
  periodStart?: InputMaybe<Scalars['Timestamp']['input']>;
  /** New time zone. */
  timezone?: InputMaybe<Scalars['String']['input']>;
};

/** New contents for a schema's draft. */
export type UpdateExportSchemaDraftInput = {
  /** Replaces the whole draft. */
  definition: ExportSchemaDefinitionInput;
  /** `sch_...` id. */
  id: Scalars['ID']['input'];
};

/** Changes to an instrument; what is left out stays as it is. */
export type UpdateInstrumentInput = {
  /** True archives a delisted instrument (hidden from listings, its data kept); false lists it again. */
  archived?: InputMaybe<Scalars['Boolean']['input']>;
  /** Base asset (at most 32). */
  base?: InputMaybe<Scalars['String']['input']>;
  /** `ins_...` id. */
  id: Scalars['ID']['input'];
  /** Quote asset (at most 32). */
  quote?: InputMaybe<Scalars['String']['input']>;
};

/** Changes to a webhook; null leaves a field as it is. */
export type UpdateWebhookInput = {
  /** A new description. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Pause or resume it. */
  enabled?: InputMaybe<Scalars['Boolean']['input']>;
  /** The new list of events. */
  events?: InputMaybe<Array<NotificationEvent>>;
  /** `whk_...` id. */
  id: Scalars['ID']['input'];
  /** Generate a new secret (returned once); the old one stops. */
  rotateSecret?: Scalars['Boolean']['input'];
  /** A new URL. */
  url?: InputMaybe<Scalars['String']['input']>;
};

/** The workspace's settings; null returns one to the default. */
export type UpdateWorkspaceSettingsInput = {
  /** Query cost per minute per key. */
  queryCostPerMinute?: InputMaybe<Scalars['Int']['input']>;
  /** Requests per minute per key. */
  requestsPerMinute?: InputMaybe<Scalars['Int']['input']>;
};

/** Result of updateWorkspaceSettings. */
export type UpdateWorkspaceSettingsPayload = {
  /** Why nothing was changed. */
  userErrors: Array<UserError>;
  /** The workspace with its new settings. */
  workspace?: Maybe<Workspace>;
};

/** An expected failure of a mutation, returned as data. */
export type UserError = {
  /** Machine-readable reason. */
  code: UserErrorCode;
  /** Path to the input field at fault, e.g. ["input", "endTime"]; empty if none. */
  field: Array<Scalars['String']['output']>;
  /** Human-readable explanation. */
  message: Scalars['String']['output'];
  /** Seconds to wait before retrying, for RATE_LIMITED. */
  retryAfter?: Maybe<Scalars['Float']['output']>;
};

/** Why a mutation could not do what was asked. */
export type UserErrorCode =
  /** The request conflicts with an earlier one (e.g. idempotency key reuse). */
  | 'CONFLICT'
  /** The object is not in a state that allows this. */
  | 'FAILED_PRECONDITION'
  /** The key's role does not allow this (VIEWER reads; MEMBER also changes exports and schemas; ADMIN also manages keys, settings and the catalog). */
  | 'FORBIDDEN'
  /** A value is malformed or out of range. */
  | 'INVALID_ARGUMENT'
  /** The referenced object does not exist (or is not yours). */
  | 'NOT_FOUND'
  /** A file is larger than the gateway accepts (GATEWAY_MAX_IMPORT_BYTES). */
  | 'PAYLOAD_TOO_LARGE'
  /** Too many requests or jobs; see retryAfter. */
  | 'RATE_LIMITED'
  /** No valid API key was sent. */
  | 'UNAUTHENTICATED';

/** The caller: the key this request was made with, and its workspace. */
export type Viewer = {
  /** The key itself. */
  apiKey: ApiKey;
  /** The key's workspace. */
  workspace: Workspace;
};

/** An HTTPS endpoint the workspace's events are POSTed to, signed. */
export type Webhook = Node & {
  /** When it was created. */
  createdAt: Scalars['Timestamp']['output'];
  /** What it is for. */
  description?: Maybe<Scalars['String']['output']>;
  /** False: no new deliveries are made. */
  enabled: Scalars['Boolean']['output'];
  /** The events it receives. */
  events: Array<NotificationEvent>;
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** When it was last changed. */
  updatedAt: Scalars['Timestamp']['output'];
  /** Where events are POSTed. */
  url: Scalars['String']['output'];
};

/** A page of a list (Relay connection). */
export type WebhookConnection = {
  /** The items of this page, with cursors. */
  edges: Array<WebhookEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** One event sent to one webhook: its attempts and what comes next. */
export type WebhookDelivery = Node & {
  /** Attempts made so far. */
  attemptCount: Scalars['Int']['output'];
  /** Every attempt, oldest first. */
  attempts: Array<DeliveryAttempt>;
  /** When the event was fanned out. */
  createdAt: Scalars['Timestamp']['output'];
  /** The event's id, the `webhook-id` header: the same at every attempt and redelivery (de-duplicate on it). */
  eventId: Scalars['String']['output'];
  /** The event's type, e.g. `export.succeeded`. */
  eventType: Scalars['String']['output'];
  /** When it SUCCEEDED or FAILED. */
  finishedAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Prefixed opaque ID, e.g. exp_<32 hex>. */
  id: Scalars['ID']['output'];
  /** The last attempt's error, if any. */
  lastError?: Maybe<Scalars['String']['output']>;
  /** The last answer's status. */
  lastStatusCode?: Maybe<Scalars['Int']['output']>;
  /** When the next retry is due; null once it SUCCEEDED or FAILED. */
  nextAttemptAt?: Maybe<Scalars['Timestamp']['output']>;
  /** Where the delivery is. */
  status: DeliveryStatus;
};

/** A page of a list (Relay connection). */
export type WebhookDeliveryConnection = {
  /** The items of this page, with cursors. */
  edges: Array<WebhookDeliveryEdge>;
  /** Where this page is in the whole list. */
  pageInfo: PageInfo;
  /** Number of items in the whole list (all pages). */
  totalCount: Scalars['Long']['output'];
};

/** An item and its cursor. */
export type WebhookDeliveryEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: WebhookDelivery;
};

/** Result of testWebhook and redeliverWebhook. */
export type WebhookDeliveryPayload = {
  /** The delivery, due now; follow it in webhookDeliveries. */
  delivery?: Maybe<WebhookDelivery>;
  /** Why nothing is sent. */
  userErrors: Array<UserError>;
};

/** An item and its cursor. */
export type WebhookEdge = {
  /** Opaque position of this item. */
  cursor: Scalars['String']['output'];
  /** The item. */
  node: Webhook;
};

/** Which webhook. */
export type WebhookIdInput = {
  /** `whk_...` id. */
  id: Scalars['ID']['input'];
};

/** Result of createWebhook and updateWebhook. */
export type WebhookPayload = {
  /** The signing secret (`whsec_...`), shown this once: on creation and when rotated; null otherwise. */
  secret?: Maybe<Scalars['String']['output']>;
  /** Why nothing was changed. */
  userErrors: Array<UserError>;
  /** The webhook. */
  webhook?: Maybe<Webhook>;
};

/** A message shape the gateway knows: collected live and normalized. */
export type WireFormat = {
  /** What the messages hold. */
  description: Scalars['String']['output'];
  /** A message as received, exactly. */
  example: Scalars['String']['output'];
  /** The exchange whose feed sends it. */
  exchange: Scalars['String']['output'];
  /** e.g. `binance.trade`; a datastream's wireFormat. */
  name: Scalars['String']['output'];
  /** `trades` or `book`. */
  streamType: Scalars['String']['output'];
};

/** A workspace: its jobs, schemas and keys belong to it. */
export type Workspace = {
  /** `wsp_...`. */
  id: Scalars['ID']['output'];
  /** Its name. */
  name: Scalars['String']['output'];
  /** Query cost each of its keys may spend per minute; null: the default. */
  queryCostPerMinute?: Maybe<Scalars['Int']['output']>;
  /** Requests each of its keys may make per minute; null: the gateway's default. */
  requestsPerMinute?: Maybe<Scalars['Int']['output']>;
};

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { workspace: { name: string }, apiKey: { name: string, role: ApiKeyRole } } };

export type DatastreamFieldsFragment = { id: string, datastreamId: string | number, streamType: string, wireFormat: string, exchange: { code: string, displayName: string }, instrument: { symbol: string, type: string } };

export type CatalogQueryVariables = Exact<{
  exchange?: InputMaybe<Scalars['String']['input']>;
  first: Scalars['Int']['input'];
}>;


export type CatalogQuery = { exchanges: { edges: Array<{ node: { code: string, displayName: string, instrumentCount: number } }> }, datastreams: { totalCount: string | number, edges: Array<{ node: { id: string, datastreamId: string | number, streamType: string, wireFormat: string, exchange: { code: string, displayName: string }, instrument: { symbol: string, type: string } } }> } };

export type InstrumentSearchQueryVariables = Exact<{
  exchange?: InputMaybe<Scalars['String']['input']>;
  search: Scalars['String']['input'];
  first: Scalars['Int']['input'];
}>;


export type InstrumentSearchQuery = { instruments: { totalCount: string | number, edges: Array<{ node: { id: string, datastreams: Array<{ id: string, datastreamId: string | number, streamType: string, wireFormat: string, exchange: { code: string, displayName: string }, instrument: { symbol: string, type: string } }> } }> } };

export type AvailabilityQueryVariables = Exact<{
  datastreamId: Scalars['ID']['input'];
}>;


export type AvailabilityQuery = { availability?: { datastreamId: string, updatedAt?: string | null, ranges: Array<{ fromTime: string, toTime: string, rowCount: string | number }> } | null };

export type ExportSchemasQueryVariables = Exact<{
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type ExportSchemasQuery = { exportSchemas: { pageInfo: { hasNextPage: boolean, endCursor?: string | null }, edges: Array<{ node: { id?: string | null, name: string, builtin: boolean, version?: number | null, streamCategory: string, definition: { streamCategory: string, description: string, sources: Array<{ source: string, unfold: Array<{ path: string, tag?: string | null }> }>, columns: Array<{ outputColumn: string, description?: string | null, meta?: string | null, format?: string | null, data?: Array<{ source: string, path: string, type: string, transform?: string | null, onError: OnError }> | null }> } } }> } };

export type EstimateExportQueryVariables = Exact<{
  input: CreateExportInput;
}>;


export type EstimateExportQuery = { estimateExport: { estimatedRows: string | number, estimatedBytes: string | number, recordsInRange: string | number, sampledRecords: number, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export type ExportJobFieldsFragment = { id: string, status: ExportStatus, reason?: string | null, datastreamIds: Array<string | number>, format: ExportFormat, compression: Compression, startTime: string, endTime: string, createdAt: string, startedAt?: string | null, finishedAt?: string | null, revision: string | number, updatedAt: string, schema: { name: string, version?: number | null }, progress: { recordsRead: string | number, recordsTotal: string | number, fraction: number, etaSeconds?: number | null, rowsWritten: string | number, bytesWritten: string | number }, artifacts: Array<{ filename: string, url: string, byteSize: string | number, rowCount: string | number, partial: boolean }> };

export type ExportJobsQueryVariables = Exact<{
  first: Scalars['Int']['input'];
}>;


export type ExportJobsQuery = { exportJobs: { edges: Array<{ node: { id: string, status: ExportStatus, reason?: string | null, datastreamIds: Array<string | number>, format: ExportFormat, compression: Compression, startTime: string, endTime: string, createdAt: string, startedAt?: string | null, finishedAt?: string | null, revision: string | number, updatedAt: string, schema: { name: string, version?: number | null }, progress: { recordsRead: string | number, recordsTotal: string | number, fraction: number, etaSeconds?: number | null, rowsWritten: string | number, bytesWritten: string | number }, artifacts: Array<{ filename: string, url: string, byteSize: string | number, rowCount: string | number, partial: boolean }> } }> } };

export type ExportJobsUpdatedSubscriptionVariables = Exact<{
  since?: InputMaybe<Scalars['Timestamp']['input']>;
}>;


export type ExportJobsUpdatedSubscription = { exportJobsUpdated: { id: string, status: ExportStatus, reason?: string | null, datastreamIds: Array<string | number>, format: ExportFormat, compression: Compression, startTime: string, endTime: string, createdAt: string, startedAt?: string | null, finishedAt?: string | null, revision: string | number, updatedAt: string, schema: { name: string, version?: number | null }, progress: { recordsRead: string | number, recordsTotal: string | number, fraction: number, etaSeconds?: number | null, rowsWritten: string | number, bytesWritten: string | number }, artifacts: Array<{ filename: string, url: string, byteSize: string | number, rowCount: string | number, partial: boolean }> } };

export type CreateExportMutationVariables = Exact<{
  input: CreateExportInput;
}>;


export type CreateExportMutation = { createExport: { exportJob?: { id: string, status: ExportStatus, reason?: string | null, datastreamIds: Array<string | number>, format: ExportFormat, compression: Compression, startTime: string, endTime: string, createdAt: string, startedAt?: string | null, finishedAt?: string | null, revision: string | number, updatedAt: string, schema: { name: string, version?: number | null }, progress: { recordsRead: string | number, recordsTotal: string | number, fraction: number, etaSeconds?: number | null, rowsWritten: string | number, bytesWritten: string | number }, artifacts: Array<{ filename: string, url: string, byteSize: string | number, rowCount: string | number, partial: boolean }> } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export type CancelExportMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type CancelExportMutation = { cancelExport: { exportJob?: { id: string, status: ExportStatus, reason?: string | null, datastreamIds: Array<string | number>, format: ExportFormat, compression: Compression, startTime: string, endTime: string, createdAt: string, startedAt?: string | null, finishedAt?: string | null, revision: string | number, updatedAt: string, schema: { name: string, version?: number | null }, progress: { recordsRead: string | number, recordsTotal: string | number, fraction: number, etaSeconds?: number | null, rowsWritten: string | number, bytesWritten: string | number }, artifacts: Array<{ filename: string, url: string, byteSize: string | number, rowCount: string | number, partial: boolean }> } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export type DeleteExportMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type DeleteExportMutation = { deleteExport: { deletedId?: string | null, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export type PreviewExportSchemaQueryVariables = Exact<{
  datastreamId: Scalars['ID']['input'];
  inlineSchema: ExportSchemaDefinitionInput;
  limit: Scalars['Int']['input'];
}>;


export type PreviewExportSchemaQuery = { previewExportSchema: { rows: Array<Array<string | null>>, columns: Array<{ name: string, type: string }>, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export type CreateExportSchemaMutationVariables = Exact<{
  input: CreateExportSchemaInput;
}>;


export type CreateExportSchemaMutation = { createExportSchema: { exportSchema?: { id?: string | null, name: string, version?: number | null } | null, userErrors: Array<{ code: UserErrorCode, field: Array<string>, message: string }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const DatastreamFieldsFragmentDoc = new TypedDocumentString(`
    fragment DatastreamFields on Datastream {
  id
  datastreamId
  streamType
  wireFormat
  exchange {
    code
    displayName
  }
  instrument {
    symbol
    type
  }
}
    `, {"fragmentName":"DatastreamFields"}) as unknown as TypedDocumentString<DatastreamFieldsFragment, unknown>;
export const ExportJobFieldsFragmentDoc = new TypedDocumentString(`
    fragment ExportJobFields on ExportJob {
  id
  status
  reason
  datastreamIds
  format
  compression
  schema {
    name
    version
  }
  startTime
  endTime
  createdAt
  startedAt
  finishedAt
  progress {
    recordsRead
    recordsTotal
    fraction
    etaSeconds
    rowsWritten
    bytesWritten
  }
  artifacts {
    filename
    url
    byteSize
    rowCount
    partial
  }
  revision
  updatedAt
}
    `, {"fragmentName":"ExportJobFields"}) as unknown as TypedDocumentString<ExportJobFieldsFragment, unknown>;
export const ViewerDocument = new TypedDocumentString(`
    query Viewer {
  viewer {
    workspace {
      name
    }
    apiKey {
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<ViewerQuery, ViewerQueryVariables>;
export const CatalogDocument = new TypedDocumentString(`
    query Catalog($exchange: String, $first: Int!) {
  exchanges(first: 100) {
    edges {
      node {
        code
        displayName
        instrumentCount
      }
    }
  }
  datastreams(exchange: $exchange, first: $first) {
    totalCount
    edges {
      node {
        ...DatastreamFields
      }
    }
  }
}
    fragment DatastreamFields on Datastream {
  id
  datastreamId
  streamType
  wireFormat
  exchange {
    code
    displayName
  }
  instrument {
    symbol
    type
  }
}`) as unknown as TypedDocumentString<CatalogQuery, CatalogQueryVariables>;
export const InstrumentSearchDocument = new TypedDocumentString(`
    query InstrumentSearch($exchange: String, $search: String!, $first: Int!) {
  instruments(exchange: $exchange, search: $search, first: $first) {
    totalCount
    edges {
      node {
        id
        datastreams {
          ...DatastreamFields
        }
      }
    }
  }
}
    fragment DatastreamFields on Datastream {
  id
  datastreamId
  streamType
  wireFormat
  exchange {
    code
    displayName
  }
  instrument {
    symbol
    type
  }
}`) as unknown as TypedDocumentString<InstrumentSearchQuery, InstrumentSearchQueryVariables>;
export const AvailabilityDocument = new TypedDocumentString(`
    query Availability($datastreamId: ID!) {
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
    `) as unknown as TypedDocumentString<AvailabilityQuery, AvailabilityQueryVariables>;
export const ExportSchemasDocument = new TypedDocumentString(`
    query ExportSchemas($after: String) {
  exportSchemas(first: 20, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
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
          sources {
            source
            unfold {
              path
              tag
            }
          }
          columns {
            outputColumn
            description
            meta
            format
            data {
              source
              path
              type
              transform
              onError
            }
          }
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExportSchemasQuery, ExportSchemasQueryVariables>;
export const EstimateExportDocument = new TypedDocumentString(`
    query EstimateExport($input: CreateExportInput!) {
  estimateExport(input: $input) {
    estimatedRows
    estimatedBytes
    recordsInRange
    sampledRecords
    userErrors {
      code
      field
      message
    }
  }
}
    `) as unknown as TypedDocumentString<EstimateExportQuery, EstimateExportQueryVariables>;
export const ExportJobsDocument = new TypedDocumentString(`
    query ExportJobs($first: Int!) {
  exportJobs(first: $first) {
    edges {
      node {
        ...ExportJobFields
      }
    }
  }
}
    fragment ExportJobFields on ExportJob {
  id
  status
  reason
  datastreamIds
  format
  compression
  schema {
    name
    version
  }
  startTime
  endTime
  createdAt
  startedAt
  finishedAt
  progress {
    recordsRead
    recordsTotal
    fraction
    etaSeconds
    rowsWritten
    bytesWritten
  }
  artifacts {
    filename
    url
    byteSize
    rowCount
    partial
  }
  revision
  updatedAt
}`) as unknown as TypedDocumentString<ExportJobsQuery, ExportJobsQueryVariables>;
export const ExportJobsUpdatedDocument = new TypedDocumentString(`
    subscription ExportJobsUpdated($since: Timestamp) {
  exportJobsUpdated(since: $since) {
    ...ExportJobFields
  }
}
    fragment ExportJobFields on ExportJob {
  id
  status
  reason
  datastreamIds
  format
  compression
  schema {
    name
    version
  }
  startTime
  endTime
  createdAt
  startedAt
  finishedAt
  progress {
    recordsRead
    recordsTotal
    fraction
    etaSeconds
    rowsWritten
    bytesWritten
  }
  artifacts {
    filename
    url
    byteSize
    rowCount
    partial
  }
  revision
  updatedAt
}`) as unknown as TypedDocumentString<ExportJobsUpdatedSubscription, ExportJobsUpdatedSubscriptionVariables>;
export const CreateExportDocument = new TypedDocumentString(`
    mutation CreateExport($input: CreateExportInput!) {
  createExport(input: $input) {
    exportJob {
      ...ExportJobFields
    }
    userErrors {
      code
      field
      message
    }
  }
}
    fragment ExportJobFields on ExportJob {
  id
  status
  reason
  datastreamIds
  format
  compression
  schema {
    name
    version
  }
  startTime
  endTime
  createdAt
  startedAt
  finishedAt
  progress {
    recordsRead
    recordsTotal
    fraction
    etaSeconds
    rowsWritten
    bytesWritten
  }
  artifacts {
    filename
    url
    byteSize
    rowCount
    partial
  }
  revision
  updatedAt
}`) as unknown as TypedDocumentString<CreateExportMutation, CreateExportMutationVariables>;
export const CancelExportDocument = new TypedDocumentString(`
    mutation CancelExport($id: ID!) {
  cancelExport(input: {id: $id}) {
    exportJob {
      ...ExportJobFields
    }
    userErrors {
      code
      field
      message
    }
  }
}
    fragment ExportJobFields on ExportJob {
  id
  status
  reason
  datastreamIds
  format
  compression
  schema {
    name
    version
  }
  startTime
  endTime
  createdAt
  startedAt
  finishedAt
  progress {
    recordsRead
    recordsTotal
    fraction
    etaSeconds
    rowsWritten
    bytesWritten
  }
  artifacts {
    filename
    url
    byteSize
    rowCount
    partial
  }
  revision
  updatedAt
}`) as unknown as TypedDocumentString<CancelExportMutation, CancelExportMutationVariables>;
export const DeleteExportDocument = new TypedDocumentString(`
    mutation DeleteExport($id: ID!) {
  deleteExport(input: {id: $id}) {
    deletedId
    userErrors {
      code
      field
      message
    }
  }
}
    `) as unknown as TypedDocumentString<DeleteExportMutation, DeleteExportMutationVariables>;
export const PreviewExportSchemaDocument = new TypedDocumentString(`
    query PreviewExportSchema($datastreamId: ID!, $inlineSchema: ExportSchemaDefinitionInput!, $limit: Int!) {
  previewExportSchema(
    datastreamId: $datastreamId
    inlineSchema: $inlineSchema
    limit: $limit
  ) {
    columns {
      name
      type
    }
    rows
    userErrors {
      code
      field
      message
    }
  }
}
    `) as unknown as TypedDocumentString<PreviewExportSchemaQuery, PreviewExportSchemaQueryVariables>;
export const CreateExportSchemaDocument = new TypedDocumentString(`
    mutation CreateExportSchema($input: CreateExportSchemaInput!) {
  createExportSchema(input: $input) {
    exportSchema {
      id
      name
      version
    }
    userErrors {
      code
      field
      message
    }
  }
}
    `) as unknown as TypedDocumentString<CreateExportSchemaMutation, CreateExportSchemaMutationVariables>;