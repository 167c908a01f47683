import { describeInterop } from '../src/interop-suite.js';
import { amqpRedisTransport, amqpRpcTransport } from '../src/transports.js';

describeInterop(amqpRpcTransport);
describeInterop(amqpRedisTransport);
