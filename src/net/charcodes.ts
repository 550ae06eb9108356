/** The character codes the address and host parsers compare against (`s.charCodeAt(i) === CH_DOT`). */
export const CH_PERCENT = 0x25; // %
export const CH_DOT = 0x2e; // .
export const CH_0 = 0x30;
export const CH_9 = 0x39;
export const CH_COLON = 0x3a; // :
export const CH_A = 0x41;
export const CH_F = 0x46;
export const CH_Z = 0x5a;
export const CH_LBRACKET = 0x5b; // [
export const CH_RBRACKET = 0x5d; // ]
export const CH_a = 0x61;
export const CH_f = 0x66;
export const CH_z = 0x7a;
export const CH_SPACE = 0x20;
export const CH_QUOTE = 0x22; // "
export const CH_SLASH = 0x2f; // /
export const CH_BACKSLASH = 0x5c; // \
