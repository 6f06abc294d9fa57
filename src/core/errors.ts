/** An error caused by the user's input (bad flag, bad file, unknown id): printed as one line, exit code 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Characters a terminal may act on, or that reorder or break the line: C0/C1 controls, DEL, bidi, line separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * How a message quotes a piece of input (a line, a header, an id, a value): in double quotes, unsafe
 * characters escaped, at most `max` characters of it with the rest counted. Every message that
 * quotes what a file or a user gave goes through this, so no input reaches the terminal unbounded
 * or raw.
 */
export function quote(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : String(value);
  const chars = Array.from(text.length > 4 * max ? text.slice(0, 4 * max) : text);
  const cut = chars.length > max;
  const body = (cut ? chars.slice(0, max) : chars)
    .join('')
    .replace(/["\\]/g, (c) => `\\${c}`)
    .replace(UNSAFE, escaped);
  return `"${body}"${cut ? ` (… ${text.length - chars.slice(0, max).join('').length} more characters)` : ''}`;
}

/**
 * A whole message made safe for one terminal line: unsafe characters escaped, at most `max`
 * characters (the CLI's last guard, for a message that quoted input without `quote`).
 */
export function oneLine(message: string, max = 1000): string {
  const safe = message.replace(UNSAFE, escaped);
  return safe.length > max ? `${safe.slice(0, max)}… (${safe.length - max} more characters)` : safe;
}
