import { taskqBuild } from '../../tsup.base.js';

// child-entry is what each thread/child of the threads and process pools runs (see src/pools/executors.ts).
export default taskqBuild(['src/index.ts', 'src/pools/child-entry.ts']);
