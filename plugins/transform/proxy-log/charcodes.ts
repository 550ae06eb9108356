/**
 * The character codes the parsers compare against: `line.charCodeAt(i) === Ch.Slash` reads as what
 * it tests. A `const enum`, so the compiler writes the number itself into the comparison: an imported
 * `const` would be a module-binding load on every test in the hot loops.
 */
export const enum Ch {
  Tab = 0x09,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22, // "
  Hash = 0x23, // #
  Plus = 0x2b, // +
  Dash = 0x2d, // -
  Dot = 0x2e, // .
  Slash = 0x2f, // /
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a, // :
  Question = 0x3f, // ?
  At = 0x40, // @
  A = 0x41,
  H = 0x48,
  Z = 0x5a,
  LBracket = 0x5b, // [
  Backslash = 0x5c, // \
  RBracket = 0x5d, // ]
  Underscore = 0x5f, // _
  a = 0x61,
  e = 0x65,
  f = 0x66,
  h = 0x68,
  p = 0x70,
  s = 0x73,
  t = 0x74,
  z = 0x7a,
  LBrace = 0x7b, // {
}
