import { taskqBuild } from '../../tsup.base.js';

export default taskqBuild(['src/index.ts', 'src/testing/index.ts'], { splitting: true });
