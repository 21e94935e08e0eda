import type { ServiceImplementation } from '@refront/core';
import type { EchoServiceDefinition } from '@refront/test-contracts';

/** The echo every Refront server in the benches serves: the message back, nothing else. */
export const echoImpl: ServiceImplementation<typeof EchoServiceDefinition> = {
  async echo(req) {
    return { message: req.message };
  },
  async sleep() {
    return { aborted: false };
  },
  async fail() {
    return {};
  },
};
