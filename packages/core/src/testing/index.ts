/** Test helpers: `import { describeBrokerConformance } from '@taskq/core/testing'` (needs vitest). */
export { describeBrokerConformance, until } from './broker-conformance.js';
export type { BrokerConformanceOptions } from './broker-conformance.js';
export { describeResultBackendConformance } from './backend-conformance.js';
export type { ResultBackendConformanceOptions } from './backend-conformance.js';
export { createTestApp } from './test-app.js';
export { createDownResultBackend } from './down-backend.js';
