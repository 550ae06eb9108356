/**
 * The character codes the parsers compare against, by name (`Ch.Slash` is `/`). The parsers want
 * the number itself in each comparison, not a load per test in their hot loops, and this build does
 * not give that for a const enum: tsc (7, `verbatimModuleSyntax`) emits it as an object and every
 * `Ch.Slash` as a property read of an imported binding (a hole check, a map check and a load per
 * comparison in V8's optimised code). So each parser file declares the codes it uses as constants of
 * its own module (`const Ch_Slash = 0x2f`), which V8 reads without those checks, and this list is the
 * reference they are held to (test/plugins/proxy-log/charcodes.test.ts).
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
  C = 0x43,
  E = 0x45,
  H = 0x48,
  N = 0x4e,
  O = 0x4f,
  P = 0x50,
  T = 0x54,
  Z = 0x5a,
  LBracket = 0x5b, // [
  Backslash = 0x5c, // \
  RBracket = 0x5d, // ]
  Underscore = 0x5f, // _
  a = 0x61,
  e = 0x65,
  f = 0x66,
  h = 0x68,
  o = 0x6f,
  p = 0x70,
  r = 0x72,
  s = 0x73,
  t = 0x74,
  z = 0x7a,
  LBrace = 0x7b, // {
}
