/**
 * The character codes the address and host parsers compare against (`s.charCodeAt(i) === Ch.Dot`).
 * A `const enum`, so the compiler writes the number itself into each comparison: an imported `const`
 * would be a module-binding load on every test in the hot loops.
 */
export const enum Ch {
  Space = 0x20,
  Quote = 0x22, // "
  Percent = 0x25, // %
  Dot = 0x2e, // .
  Slash = 0x2f, // /
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a, // :
  A = 0x41,
  F = 0x46,
  Z = 0x5a,
  LBracket = 0x5b, // [
  Backslash = 0x5c, // \
  RBracket = 0x5d, // ]
  a = 0x61,
  f = 0x66,
  z = 0x7a,
}
