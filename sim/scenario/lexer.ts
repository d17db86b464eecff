/**
 * The scenario lexer: text -> lines of tokens, each token with its column.
 *
 * Theory of operation. The language has one statement per line, so lexing is per line and
 * never crosses a newline. Within a line, tokens are split on spaces and tabs; the splitting
 * and quoting follow redis-cli's sdssplitargs() (redis src/sds.c), so a command line reads the
 * same here as at a redis-cli prompt:
 *   - A token that starts with `"` is double-quoted: it may hold spaces and the escapes
 *     \" \\ \n \r \t \a \b and \xHH (two hex digits, one byte); any other \c stands for c.
 *   - A token that starts with `'` is single-quoted: only \' is an escape.
 *   - A closing quote must be followed by a space or the end of the line ("hello"x is an
 *     error, as in redis-cli). A quote inside a bare word is an ordinary character (don't).
 *   - `#` at the start of a token, outside quotes, begins a comment that runs to the end of
 *     the line; a `#` inside a word (k#1) is an ordinary character, as in a shell.
 *   - A `title` line is free text: see lexTitle().
 * Text is handled as latin1 (one char per byte): the CLI reads files as latin1, so quoted
 * strings are binary-safe. Columns are 1-based characters. Each token also keeps its start and
 * end offsets in the line so the parser can take "the rest of the line" as written (title,
 * config values). A trailing \r (CRLF files) is ignored.
 */
import { ScenarioError } from './errors.ts';

export interface Token {
  /** The token's value: unquoted and unescaped for quoted tokens. */
  text: string;
  /** True for "double" or 'single' quoted tokens: never a keyword, operator or number. */
  quoted: boolean;
  /** 1-based column of the token's first character (the opening quote, if quoted). */
  col: number;
  /** Offsets in the line: line.slice(start, end) is the token as written. */
  start: number;
  end: number;
}

export interface LexedLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line as written, without its newline (and comment still in). */
  text: string;
  tokens: Token[];
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';
const HEX = /^[0-9a-fA-F]{2}$/;

/** Lex one line; throws ScenarioError (with the column) on an unterminated or misplaced quote. */
export function lexLine(text: string, line: number, file: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(text[i])) i++;
    if (i >= n || text[i] === '#') return tokens;
    const start = i;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const [value, endQuote] = quote === '"' ? readDouble(text, i + 1, line, file) : readSingle(text, i + 1, line, file);
      i = endQuote + 1;
      if (i < n && !isSpace(text[i])) {
        throw new ScenarioError(file, line, i + 1, 'closing quote must be followed by a space or the end of the line');
      }
      tokens.push({ text: value, quoted: true, col: start + 1, start, end: i });
    } else {
      while (i < n && !isSpace(text[i])) i++;
      tokens.push({ text: text.slice(start, i), quoted: false, col: start + 1, start, end: i });
    }
  }
}

/** Read a double-quoted body starting after the quote; returns [value, index of closing quote]. */
function readDouble(text: string, from: number, line: number, file: string): [string, number] {
  let out = '';
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return [out, i];
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e === 'x' && HEX.test(text.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
      continue;
    }
    switch (e) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      default: out += e; // \" \\ and, as in sdssplitargs(), any other \c
    }
    i += 2;
  }
  throw new ScenarioError(file, line, from, 'unterminated "double quoted" string');
}

/** Read a single-quoted body: only \' is an escape (sdssplitargs()). */
function readSingle(text: string, from: number, line: number, file: string): [string, number] {
  let out = '';
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") return [out, i];
    if (c === '\\' && text[i + 1] === "'") {
      out += "'";
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw new ScenarioError(file, line, from, "unterminated 'single quoted' string");
}

const TITLE_LINE = /^([ \t]*)title(?=[ \t]|$)/;
/**
 * A `#` that starts a comment in free text: at a word start (the line start, or after a space or
 * tab) and followed by a space, a tab or the line end. So `title Bug zoo #3899: ...` keeps its
 * issue number, and `title Partial resync # a note` ends at the note.
 */
const FREE_TEXT_COMMENT = /(^|[ \t])#(?=[ \t]|$)/;

/**
 * A `title` line is free text, not tokens: quotes and apostrophes in it are just characters
 * (`title The replica's "view"`), and only a lone `#` at a word start begins a comment. It lexes
 * as the `title` keyword and one unquoted token holding the trimmed text (none if empty).
 */
function lexTitle(text: string, indent: number): Token[] {
  const kw: Token = { text: 'title', quoted: false, col: indent + 1, start: indent, end: indent + 5 };
  let rest = text.slice(kw.end);
  const comment = FREE_TEXT_COMMENT.exec(rest);
  if (comment !== null) rest = rest.slice(0, comment.index);
  const trimmed = rest.trim();
  if (trimmed === '') return [kw];
  const start = kw.end + rest.indexOf(trimmed);
  return [kw, { text: trimmed, quoted: false, col: start + 1, start, end: start + trimmed.length }];
}

/** True if `s` can follow `title ` and lex back as itself (lexTitle). */
export function isTitleText(s: string): boolean {
  return s !== '' && s === s.trim() && !/[\n\r]/.test(s) && !FREE_TEXT_COMMENT.test(s);
}

/** Lex a whole file; lines with no tokens (blank or comment-only) are left out. */
export function lexScenario(text: string, file: string): LexedLine[] {
  const out: LexedLine[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    const title = TITLE_LINE.exec(raw);
    const tokens = title !== null ? lexTitle(raw, title[1].length) : lexLine(raw, k + 1, file);
    if (tokens.length > 0) out.push({ line: k + 1, text: raw, tokens });
  }
  return out;
}

/** The token as written in the line (quotes and escapes included). */
export function rawToken(line: LexedLine, t: Token): string {
  return line.text.slice(t.start, t.end);
}

/**
 * Quote a string for the scenario language (and redis-cli) if it needs it: empty, contains a
 * space, quote, backslash, `#` or a non-printable byte, or would read as something else
 * (`forceQuote`). Non-printable bytes become \xHH.
 */
export function quoteIfNeeded(s: string, forceQuote = false): string {
  if (!forceQuote && s !== '' && /^[\x21-\x7e]+$/.test(s) && !/["'\\#]/.test(s)) return s;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (c === '"' || c === '\\') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code >= 0x20 && code <= 0x7e) out += c;
    else if (code > 0xff) throw new RangeError(`quoteIfNeeded: char U+${code.toString(16)} is not a byte (strings are latin1)`);
    else out += '\\x' + code.toString(16).padStart(2, '0');
  }
  return out + '"';
}
