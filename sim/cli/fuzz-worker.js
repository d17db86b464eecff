// Entry of a fuzz worker thread: registers tsx in this thread, then runs the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./fuzz-worker.ts');
