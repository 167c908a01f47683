/** The threads and process pools on memory:// (children store their results through the worker's process). */
import { describePools } from './helpers/pool-suite.js';

describePools('memory://', async () => (await import('./fixtures/pool-app.js')).app);
