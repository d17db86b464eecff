// Entry of the full-sync worker thread from source: registers tsx in this thread, then runs the TypeScript worker.
import { register } from 'tsx/esm/api';
register();
await import('./full-sync-worker.ts');
