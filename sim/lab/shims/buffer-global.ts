/** Injected into the lab's browser bundle (esbuild `inject`): sim/ uses Node's global Buffer. */
export { Buffer } from 'buffer';
