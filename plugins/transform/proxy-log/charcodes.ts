/**
 * The character codes the parsers compare against: `line.charCodeAt(i) === CH_SLASH` reads as what
 * it tests, and stays a constant V8 folds into the comparison.
 */
export const CH_TAB = 0x09;
export const CH_CR = 0x0d;
export const CH_SPACE = 0x20;
export const CH_QUOTE = 0x22; // "
export const CH_HASH = 0x23; // #
export const CH_PLUS = 0x2b; // +
export const CH_DASH = 0x2d; // -
export const CH_DOT = 0x2e; // .
export const CH_SLASH = 0x2f; // /
export const CH_0 = 0x30;
export const CH_9 = 0x39;
export const CH_COLON = 0x3a; // :
export const CH_QUESTION = 0x3f; // ?
export const CH_AT = 0x40; // @
export const CH_A = 0x41;
export const CH_H = 0x48;
export const CH_Z = 0x5a;
export const CH_LBRACKET = 0x5b; // [
export const CH_BACKSLASH = 0x5c; // \
export const CH_RBRACKET = 0x5d; // ]
export const CH_UNDERSCORE = 0x5f; // _
export const CH_a = 0x61;
export const CH_h = 0x68;
export const CH_p = 0x70;
export const CH_s = 0x73;
export const CH_t = 0x74;
export const CH_f = 0x66;
export const CH_z = 0x7a;
export const CH_LBRACE = 0x7b; // {
