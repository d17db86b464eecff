// The CLI tests spawn the compiled CLI (dist/), what users run: build it (incrementally, a few
// seconds when nothing changed) before any test file starts, so a test never sees stale output.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { globalSetup: ['test/support/build.ts'] },
});
