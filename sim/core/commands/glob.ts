/**
 * Redis's glob matcher for KEYS: stringmatchlen() in util.c (case-sensitive form).
 *
 * Theory of operation. `*` any run (collapsed, and once a `*` fails to place the rest of the
 * pattern anywhere, no earlier `*` is retried: Redis's skipLongerMatches shortcut), `?` one byte,
 * `[...]` a set with `^` negation, `a-z` ranges (reversed ranges are swapped) and `\x` escapes,
 * `\x` outside a set a literal. An unterminated `[` ends the pattern. Bytes compare as C `char`,
 * i.e. signed, which matters only for ranges spanning byte 0x80. Reads past the end of the pattern
 * see '\0', as Redis's NUL-terminated sds does.
 */

/** A byte as a signed C char, or 0 past the end (the sds terminator). */
function at(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c > 127 ? c - 256 : c;
}

export function globMatch(pattern: string, str: string): boolean {
  const state = { skipLonger: false };
  return matchFrom(pattern, 0, str, 0, state);
}

function matchFrom(pat: string, p0: number, str: string, s0: number, state: { skipLonger: boolean }): boolean {
  let p = p0;
  let s = s0;
  let plen = pat.length - p0;
  let slen = str.length - s0;
  while (plen > 0 && slen > 0) {
    const pc = at(pat, p);
    if (pc === 42 /* * */) {
      while (plen > 0 && at(pat, p + 1) === 42) {
        p++;
        plen--;
      }
      if (plen === 1) return true;
      while (slen > 0) {
        if (matchFrom(pat, p + 1, str, s, state)) return true;
        if (state.skipLonger) return false;
        s++;
        slen--;
      }
      state.skipLonger = true;
      return false;
    } else if (pc === 63 /* ? */) {
      s++;
      slen--;
    } else if (pc === 91 /* [ */) {
      p++;
      plen--;
      const not = at(pat, p) === 94; /* ^ */
      if (not) {
        p++;
        plen--;
      }
      let match = false;
      const c = at(str, s);
      for (;;) {
        if (at(pat, p) === 92 /* \ */ && plen >= 2) {
          p++;
          plen--;
          if (at(pat, p) === c) match = true;
        } else if (at(pat, p) === 93 /* ] */) {
          break;
        } else if (plen === 0) {
          p--;
          plen++;
          break;
        } else if (plen >= 3 && at(pat, p + 1) === 45 /* - */) {
          let start = at(pat, p);
          let end = at(pat, p + 2);
          if (start > end) [start, end] = [end, start];
          p += 2;
          plen -= 2;
          if (c >= start && c <= end) match = true;
        } else if (at(pat, p) === c) {
          match = true;
        }
        p++;
        plen--;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
      slen--;
    } else {
      if (pc === 92 /* \ */ && plen >= 2) {
        p++;
        plen--;
      }
      if (at(pat, p) !== at(str, s)) return false;
      s++;
      slen--;
    }
    p++;
    plen--;
    if (slen === 0) {
      while (at(pat, p) === 42 && plen > 0) {
        p++;
        plen--;
      }
      break;
    }
  }
  return plen === 0 && slen === 0;
}
