import { describeCrashSafety } from '../src/crash-suite.js';
import { redisCrashTransport } from '../src/transports.js';

describeCrashSafety(redisCrashTransport);
