// Quoting for POSIX shells, so that a command actlab prints (such as the one that continues an
// interrupted run) works when pasted back, whatever the paths hold: spaces, quotes, $, globs.
// A few lines of our own: no well-kept npm package does only this without pulling in a parser.

/** `word` as one shell word: unchanged when it holds only safe characters, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  // Inside single quotes nothing is special but the quote itself, which is closed, escaped, reopened.
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The words as one command line. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
