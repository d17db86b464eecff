/**
 * The WebAssembly kernel of CRC-64/Jones (crc64.ts): slicing-by-16 over i64 tables, about twice
 * the JavaScript loop's speed, for the long inputs (RDB files) that dominate checksum time.
 *
 * Theory of operation. The module (crc64.wat beside this file, assembled by wabt's wat2wasm;
 * test/crc64.test.ts checks that the bytes below are exactly that assembly) owns 3 pages of
 * memory: 16 lookup tables, the CRC register, and a 64 KiB window for input. crc64.ts fills the
 * tables from its own (so both paths agree by construction) and copies the input through the
 * window a chunk at a time; the register stays in wasm memory between chunks. Integer wasm is
 * deterministic, so the result never depends on the machine. Where WebAssembly is missing or not
 * allowed the loader returns null and crc64.ts keeps to JavaScript.
 */

/** crc64.wat, assembled. */
const WASM_BASE64 = 'AGFzbQEAAAABBQFgAX8AAwIBAAUDAQADBxMCBm1lbW9yeQIABnVwZGF0ZQAACosDAYgDBAF+An8BfgR/QYCAAikDACEBQYiAAiECQYiAAiAAaiEDAkADQCACQRBqIANLDQEgASACKQMAhSEBIAIpAwghBCABpyEFIAFCIIinIQYgBKchByAEQiCIpyEIIAVB/wFxQQN0KQOA8AEgBUEFdkH4D3EpA4DgAYUgBUENdkH4D3EpA4DQAYUgBUEVdkH4D3EpA4DAAYUgBkH/AXFBA3QpA4CwAYUgBkEFdkH4D3EpA4CgAYUgBkENdkH4D3EpA4CQAYUgBkEVdkH4D3EpA4CAAYUgB0H/AXFBA3QpA4BwhSAHQQV2QfgPcSkDgGCFIAdBDXZB+A9xKQOAUIUgB0EVdkH4D3EpA4BAhSAIQf8BcUEDdCkDgDCFIAhBBXZB+A9xKQOAIIUgCEENdkH4D3EpA4AQhSAIQRV2QfgPcSkDAIUhASACQRBqIQIMAAsLAkADQCACIANPDQEgAacgAi0AAHNB/wFxQQN0KQMAIAFCCIiFIQEgAkEBaiECDAALC0GAgAIgATcDAAs=';

/** Bytes of memory below the register: 16 tables × 256 entries × 8 bytes. */
export const TABLE_BYTES = 16 * 256 * 8;
/** Largest input one update() call takes. */
export const WINDOW_BYTES = 65536;
/** Where the input window starts (after the 8-byte register). */
const WINDOW_AT = TABLE_BYTES + 8;

/** A loaded kernel: its memory views and its one function. */
export interface Crc64Kernel {
  /** The memory as 32-bit words: the register is words[REGISTER_WORD] (lo), [+1] (hi). */
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
  /** Fold bytes [WINDOW_AT, WINDOW_AT + len) into the register. */
  readonly update: (len: number) => void;
}

export const REGISTER_WORD = TABLE_BYTES / 4;

/** The module's bytes (for the test that compares them with crc64.wat's assembly). */
export function crc64WasmBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(WASM_BASE64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Instantiate the kernel, its tables filled by `fill(words)` (word 2·i is entry i's low half,
 * 2·i + 1 its high half). Null where WebAssembly is unavailable.
 */
export function loadCrc64Kernel(fill: (words: Uint32Array) => void): Crc64Kernel | null {
  if (typeof WebAssembly !== 'object') return null;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(crc64WasmBytes()), {});
  } catch {
    // A page whose Content-Security-Policy forbids compiling wasm (the lab's `script-src 'self'`)
    // throws here: the JavaScript loop gives the same checksums. (Node always compiles it:
    // test/crc64.test.ts checks.)
    return null;
  }
  const memory = instance.exports['memory'] as WebAssembly.Memory;
  const update = instance.exports['update'] as (len: number) => void;
  const words = new Uint32Array(memory.buffer);
  fill(words);
  return { words, bytes: new Uint8Array(memory.buffer), update };
}

/** Copy `data[start, end)` through the window into the kernel's register. */
export function kernelUpdate(k: Crc64Kernel, data: Uint8Array, start: number, end: number): void {
  for (let at = start; at < end; at += WINDOW_BYTES) {
    const upTo = Math.min(end, at + WINDOW_BYTES);
    k.bytes.set(data.subarray(at, upTo), WINDOW_AT);
    k.update(upTo - at);
  }
}
