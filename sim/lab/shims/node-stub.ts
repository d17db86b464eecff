/**
 * node:fs, node:module and node:zlib for the lab's browser bundle. sim/trace/html.ts reads
 * uPlot's files from node_modules and gzips the page's data when it writes a whole page; the lab only uses its pageData(), and the lab
 * server serves uPlot itself. These stand-ins fail loudly if anything calls them.
 */
function unavailable(what: string): never {
  throw new Error(`psync-sim lab: ${what} is not available in the browser`);
}

export function readFileSync(): never {
  return unavailable('readFileSync');
}

export function createRequire(): ((id: string) => never) & { resolve: (id: string) => never } {
  return Object.assign((id: string) => unavailable(`require('${id}')`), { resolve: (id: string) => unavailable(`require.resolve('${id}')`) });
}

export function gzipSync(): never {
  return unavailable('gzipSync');
}
