import { taskqBuild } from '../../tsup.base.js';

export default taskqBuild(['src/index.ts']);
