/**
 * LZF decompression, for the compressed strings inside real RDB files. Mirrors
 * lzf_decompress() in redis src/lzf_d.c (liblzf 3.6, built with CHECK_INPUT).
 *
 * Theory of operation: the input is a sequence of items, each starting with a control byte.
 *   - ctrl < 32: a literal run; the next ctrl+1 input bytes are copied to the output.
 *   - otherwise: a back reference. len = ctrl >> 5 (7 means "read one more byte and add it"),
 *     the distance is ((ctrl & 0x1f) << 8) + next byte + 1 back from the output position, and
 *     len + 2 bytes are copied one by one (the areas may overlap: that is how runs repeat).
 * Redis knows the uncompressed size from the RDB and treats any other result as corruption.
 * Simplification: compression is not implemented; our RDB writer stores strings verbatim.
 */

export class LzfError extends Error {
  override name = 'LzfError';
}

/**
 * Decompress `input` into exactly `outLengthBytes` bytes. Throws LzfError on a malformed
 * stream (a reference before the start, input ending mid-item, output overflow) or when the
 * stream produces a different size, which rdbLoadLzfStringObject() reports as corruption.
 */
export function lzfDecompress(input: Uint8Array, outLengthBytes: number): Buffer {
  const out = Buffer.allocUnsafe(outLengthBytes);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  while (ip < inEnd) {
    let ctrl = input[ip++]!;
    if (ctrl < 32) {
      ctrl++; // Literal run of ctrl bytes.
      if (op + ctrl > outLengthBytes) throw new LzfError('LZF: output overflow in a literal run');
      if (ip + ctrl > inEnd) throw new LzfError('LZF: input ends inside a literal run');
      out.set(input.subarray(ip, ip + ctrl), op);
      ip += ctrl;
      op += ctrl;
    } else {
      let len = ctrl >>> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= inEnd) throw new LzfError('LZF: input ends inside a back reference');
      if (len === 7) {
        len += input[ip++]!;
        if (ip >= inEnd) throw new LzfError('LZF: input ends inside a back reference');
      }
      ref -= input[ip++]!;
      len += 2;
      if (op + len > outLengthBytes) throw new LzfError('LZF: output overflow in a back reference');
      if (ref < 0) throw new LzfError('LZF: back reference before the start of the output');
      if (op >= ref + len) {
        out.copyWithin(op, ref, ref + len); // Disjoint areas.
        op += len;
      } else {
        while (len-- > 0) out[op++] = out[ref++]!; // Overlap: byte by byte repeats the pattern.
      }
    }
  }
  if (op !== outLengthBytes) throw new LzfError(`LZF: decompressed ${op} bytes, expected ${outLengthBytes}`);
  return out;
}
