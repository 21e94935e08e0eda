export { ConsoleErrors } from './consoleErrors.js';
export type { ConsoleSpanExporterOptions } from './consoleSpanExporter.js';
export { createConsoleSpanExporter } from './consoleSpanExporter.js';
export type {
  ConsoleContractsOptions,
  ConsoleGateway,
  ConsoleServiceContract,
  MethodView,
  ServiceContractView,
} from './contracts.js';
export type { ConsoleOptions, ConsoleServiceTarget, RefrontConsole } from './createConsole.js';
export { createConsole } from './createConsole.js';
export type { DeadLetterSource, DeadLetterView } from './deadLetters.js';
export { inProcessDeadLetters } from './deadLetters.js';
export type { ExplorerIdentity, ExplorerOutcome } from './explorerCall.js';
export type { CallEdge, EventFlow, FlowView, Observed } from './flow.js';
export { flowOf } from './flow.js';
export type { GatewayRoute } from './gatewayRoutes.js';
export { decodeOtlpTraces } from './otlp.js';
export type { RedRow } from './red.js';
export { redRows } from './red.js';
export type { Attributes, AttributeValue, SpanKindName, SpanRecord } from './spans.js';
export type { TraceQuery, TraceSpan, TraceStoreOptions, TraceSummary } from './TraceStore.js';
export { serviceOf, TraceStore } from './TraceStore.js';
export type { WorkflowSources } from './workflowRoutes.js';
export type {
  HttpWorkflowSourceOptions,
  WorkflowRunFilter,
  WorkflowRunJournalView,
  WorkflowRunState,
  WorkflowRunView,
  WorkflowSource,
} from './workflows.js';
export { httpWorkflowSource } from './workflows.js';
