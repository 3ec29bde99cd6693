/**
 * Characters that change what a person reads rather than being read: C0/C1 controls
 * (terminal escape sequences recolor, erase or move text; a newline forges a new line)
 * and Unicode bidirectional controls (reorder text on screen, "Trojan Source",
 * https://trojansource.codes). Tab and newline are left to each caller.
 */
export const DECEPTIVE_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Whether `s` holds a deceptive character or a line break (one-line fields such as a reason). */
export function hasDeceptiveChars(s: string): boolean {
  return /[\t\n]/.test(s) || new RegExp(DECEPTIVE_CHARS.source).test(s);
}
