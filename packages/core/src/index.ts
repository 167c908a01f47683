export { App, createApp, TaskRegistry } from './app.js';
export type { AppOptions } from './app.js';
export { AsyncResult } from './async-result.js';
export type { GetOptions, ResultSource } from './async-result.js';
export { topicMatches } from './broadcast.js';
export type { BroadcastBinding, BroadcastMessage, BroadcastSubscription, ExchangeSpec, Fanout, ReceivedBroadcast } from './broadcast.js';
export { BroadcastUnsupportedError, Control, Inspect } from './control/control-client.js';
export type { BroadcastOptions, ControlHost, ControlReply, InspectOptions, InspectResult } from './control/control-client.js';
export { type ControlHandler, MailboxNode, type MailboxNodeOptions, NO_REPLY } from './control/mailbox-node.js';
export {
  buildControlReply,
  buildControlRequest,
  type ControlRequest,
  type ControlRequestInit,
  isForNode,
  LamportClock,
  nodeBinding,
  parseControlRequest,
  PIDBOX_EXCHANGE,
  PIDBOX_QUEUE_ARGUMENTS,
  REPLY_EXCHANGE,
  replyBinding,
} from './control/pidbox.js';
export {
  buildEvent,
  type CeleryEvent,
  EVENT_EXCHANGE,
  EventSender,
  type EventSenderOptions,
  type EventType,
  eventRoutingKey,
  HEARTBEAT_FREQ,
  type TaskEventType,
  utcOffsetHours,
  type WorkerEventType,
  workerEventFields,
} from './events/event.js';
export { EventReceiver, type EventReceiverOptions, eventsOf } from './events/receiver.js';
export { sendTaskSentEvents, taskSentFields } from './events/task-sent.js';
export type { Broker, BrokerCapabilities, ConsumeOptions, Consumer, Delivery, InvalidMessage, PublishRoute } from './broker.js';
export { redactUrl, resolveConfig } from './config.js';
export type { AppConfig, AppConfigInput, Env } from './config.js';
export { defineTask } from './contract.js';
export type { ContractArgs, ContractOptions, ContractResult, TaskContract } from './contract.js';
export {
  BrokerChannelError,
  BrokerConnectionError,
  ConfigError,
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  Ignore,
  InvalidTaskOptionsError,
  isTaskqError,
  MaxRetriesExceededError,
  Reject,
  Retry,
  SerializationError,
  SoftTimeLimitExceeded,
  TaskAlreadyRegisteredError,
  TaskFailedError,
  TaskNotRegisteredError,
  TaskqError,
  TaskRevokedError,
  TimeLimitExceeded,
  TimeoutError,
  TransportNotInstalledError,
  UnknownTransportError,
} from './errors.js';
export { errorFromMeta, NON_ERROR_THROWN, serializeError, TASKQ_EXC_MODULE } from './exception-info.js';
export type { SerializedFailure } from './exception-info.js';
export { Fifo } from './fifo.js';
export { setOwn } from './own-property.js';
export { assertJsonSerialisable, parseJson, stringifyJson } from './json.js';
export type { JsonValue } from './json.js';
export { createLogger, LOG_LEVELS } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
export { buildTaskMessage, EMPTY_EMBED, ORIGIN } from './message.js';
export type { BuildTaskMessageInit, SignatureDict, TaskBody, TaskEmbed, TaskHeaders, TaskMessage, TaskProperties } from './message.js';
export { compactHeaders, encodeTaskBody, fromWireMessage, JSON_CONTENT_TYPE, toWireMessage } from './message-codec.js';
export type { WireMessage } from './message-codec.js';
export { createMemoryBroker, MemoryBroker } from './memory/memory-broker.js';
export { MemoryFanout } from './memory/memory-fanout.js';
export { createMemoryResultBackend, MemoryResultBackend } from './memory/memory-result-backend.js';
export type { MemoryResultBackendOptions } from './memory/memory-result-backend.js';
export { argsRepr, kwargsRepr, pythonRepr } from './python-repr.js';
export { EXCEPTION_STATES, READY_STATES, TASK_STATES } from './result-backend.js';
export type { ExceptionInfo, ResultBackend, ResultMeta, StoreContext, TaskState, WaitOptions } from './result-backend.js';
export { backoffCountdown, DEFAULT_PUBLISH_RETRY_POLICY, publishRetryDelay } from './retry-policy.js';
export type { BackoffOptions, RetryPolicy } from './retry-policy.js';
export { Signature } from './signature.js';
export { Signals } from './signals.js';
export type { SignalErrorHandler, SignalHandler, SignalName, SignalPayloads } from './signals.js';
export type { AnySignature, SignatureOptions, SignatureSender } from './signature.js';
export { Chain, Chord, Chunks, chain, chord, chunks, Group, group, map, starmap } from './canvas.js';
export type { ResultsOf, SignatureInput, SignatureResult, ValidChain } from './canvas.js';
export { ChordError, ChordUnsupportedError, GROUP_KEY_PREFIX, groupMetaFor, taskIdsOfGroupMeta } from './canvas-backend.js';
export type { ChordPart, ChordPartOutcome, ChordPartResult, GroupMeta } from './canvas-backend.js';
export { buildSignatureMessage, sendSignature } from './canvas-send.js';
export type { SendExtras } from './canvas-send.js';
export { GroupResult, GroupSaveUnsupportedError } from './group-result.js';
export { runWorkflowCallbacks } from './workflow-callbacks.js';
export type { BoundTaskFn, FirstParam, RetryOptions, Task, TaskContext, TaskFn, TaskRequest } from './task.js';
export { parseRateLimit, resolveTaskOptions, validateApplyOptions } from './task-options.js';
export type { ApplyOptions, ErrorClass, RateLimit, ResolvedTaskOptions, TaskOptions } from './task-options.js';
export { traceTask } from './task-trace.js';
export type { TraceEnv, TraceOutcome } from './task-trace.js';
export { parseIsoDate, toCeleryIso, toNaiveUtcIso } from './time.js';
export {
  createBrokerFromUrl,
  createResultBackendFromUrl,
  registerTransport,
  schemeOf,
  TRANSPORT_PACKAGES,
} from './transport-registry.js';
export type { TransportContext, TransportModule } from './transport-registry.js';
