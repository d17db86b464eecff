/**
 * The CRC-64 kernels: the WebAssembly one (sim/core/crc64-wasm.ts) must be the assembly of
 * sim/core/crc64.wat and agree with the JavaScript loop on every length, alignment and starting
 * register; crc64.ts must route long inputs to it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { Crc64, crc64, crc64UsesWasm, WASM_MIN_BYTES } from '../sim/core/crc64.ts';
import { crc64WasmBytes, WINDOW_BYTES } from '../sim/core/crc64-wasm.ts';

function noise(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed >>> 0;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('crc64: the wasm kernel', () => {
  it('is exactly the assembly of sim/core/crc64.wat', async () => {
    const wabt = await wabtInit();
    const source = readFileSync(new URL('../sim/core/crc64.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('crc64.wat', source);
    module.validate();
    const assembled = Buffer.from(module.toBinary({}).buffer);
    module.destroy();
    expect(Buffer.from(crc64WasmBytes()).equals(assembled)).toBe(true);
  });

  it('agrees with the JavaScript loop on every length, offset and starting register', () => {
    expect(crc64UsesWasm).toBe(true); // Node has WebAssembly: the comparison below is wasm vs JS.
    const data = noise(3 * WINDOW_BYTES + 4096, 7);
    const lengths = [0, 1, 15, 16, 17, WASM_MIN_BYTES - 1, WASM_MIN_BYTES, WASM_MIN_BYTES + 1, 4095,
      WINDOW_BYTES - 1, WINDOW_BYTES, WINDOW_BYTES + 1, 2 * WINDOW_BYTES + 13, 3 * WINDOW_BYTES + 4000];
    for (const start of [0, 1, 3, 8, 13]) {
      for (const len of lengths) {
        for (const initial of [0n, 0xe9c6d914c4b8d9can, 0xffffffffffffffffn]) {
          const viaUpdate = new Crc64(initial).update(data, start, start + len);
          const viaJs = new Crc64(initial).updateJs(data, start, start + len);
          expect([viaUpdate.hi, viaUpdate.lo], `start ${start} len ${len} from ${initial}`).toEqual([viaJs.hi, viaJs.lo]);
        }
      }
    }
  });

  it('gives Redis check values on long inputs, however they are chunked', () => {
    // crc64(0, "123456789") repeated: the kernel takes the long input, the loop the short one.
    const unit = Buffer.from('123456789');
    expect(crc64(0n, unit)).toBe(0xe9c6d914c4b8d9can);
    const long = Buffer.concat(Array.from({ length: 1000 }, () => unit));
    const whole = crc64(0n, long);
    let chained = 0n;
    for (let i = 0; i < long.length; i += 9) chained = crc64(chained, long.subarray(i, i + 9));
    expect(whole).toBe(chained);
    expect(whole).toBe(new Crc64().updateJs(long).value);
  });
});
