export { FILE_DESCRIPTOR_SET } from './gen/descriptors.js';
export type { DeepPartial, MessageFns } from './gen/refront/testing/v1/echo.js';
export {
  EchoRequest,
  EchoResponse,
  EchoServiceDefinition,
  FailRequest,
  FailResponse,
  SleepRequest,
  SleepResponse,
} from './gen/refront/testing/v1/echo.js';
export { OtherThingHappened, ThingHappened } from './gen/refront/testing/v1/events.js';
