/**
 * The kinds of leaf values in the records threads exchange: the shaped wire form (wire.ts) and
 * projections (projection.ts, which adds its origin tags after these) tag each leaf with one.
 */
export const enum Leaf {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  Number = 4,
  String = 5,
  Extra = 6,
}
