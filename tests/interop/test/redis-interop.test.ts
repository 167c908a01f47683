import { describeInterop } from '../src/interop-suite.js';
import { redisTransport } from '../src/transports.js';

describeInterop(redisTransport);
