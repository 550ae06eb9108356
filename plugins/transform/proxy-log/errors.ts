/** How a proxy-log parser says a line cannot be read: a reason code and a message for a person. */

/** A parse failure: a reason code (UPPER_SNAKE) and a message for a person. */
export class ParseError {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

export const ERR = {
  FIELD_COUNT: 'PARSE_FIELD_COUNT',
  TIMESTAMP: 'PARSE_TIMESTAMP',
  URL: 'PARSE_URL',
  NUMBER: 'PARSE_NUMBER',
  QUOTE: 'PARSE_QUOTE',
  SYNTAX: 'PARSE_SYNTAX',
  JSON: 'PARSE_JSON',
  NO_FIELDS: 'PARSE_NO_FIELDS',
  FORMAT: 'PARSE_FORMAT',
  SCHEMA: 'SCHEMA',
  INPUT: 'INPUT_TYPE',
} as const;
