/**
 * LAVIS `BlipCaptionProcessor.pre_caption`, which MIGE applies to instruction text.
 * Reproduced rule by rule because the T5 ids depend on every character of its output.
 */

/** The punctuation pre_caption turns into spaces: `.` `!` `"` `(` `)` `*` `#` `:` `;` `~`. */
const BLIP_PUNCTUATION = /[.!"()*#:;~]/g;

/**
 * Python's `\s` for str patterns (what `str.isspace` accepts). JS `\s` differs: it lacks
 * U+001C–U+001F and U+0085 and adds U+FEFF, so the class is spelled out.
 */
const PY_WHITESPACE_RUN =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]{2,}/g;

/** MIGE's default word limit. The fixtures' LAVIS processor uses 88. */
export const DEFAULT_MAX_WORDS = 50;

/**
 * Lowercase, punctuation → space, runs of 2+ whitespace → one space, strip trailing `\n`,
 * strip spaces, keep at most `maxWords` words (split on `' '`). `<imagehere>` survives
 * untouched because `<`, `>` and its letters are not rewritten.
 */
export function preCaption(text: string, maxWords: number = DEFAULT_MAX_WORDS): string {
  let caption = text.toLowerCase().replace(BLIP_PUNCTUATION, ' ');
  caption = caption.replace(PY_WHITESPACE_RUN, ' ');
  caption = caption.replace(/\n+$/, '');
  caption = caption.replace(/^ +| +$/g, '');
  const words = caption.split(' ');
  return words.length > maxWords ? words.slice(0, maxWords).join(' ') : caption;
}
