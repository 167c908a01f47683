import { describeCrashSafety } from '../src/crash-suite.js';
import { amqpCrashTransport } from '../src/transports.js';

describeCrashSafety(amqpCrashTransport);
