/**
 * The schema of pipeline tests (`sluice test`): the `tests:` list of a spec, and the side file
 * `NAME.test.yaml` that holds the same list beside `NAME.yaml`. The runner is `src/testing/`; the
 * schema lives here so that the pipeline schema (`pipeline-schema.ts`) can include it and editors
 * complete tests as they complete nodes. docs/testing-pipelines.md describes the format.
 */

const REF_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*(\\.[A-Za-z_][A-Za-z0-9_-]*)?$';
const NODE_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';

const logicRule = {
  description: 'A json-logic condition over one record (the same operations as `rules`/`filter`: `cidr_match`, `is_ip`, `lower`, ...).',
};

function inputSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    description:
      'What enters the pipeline. At a source node, the source is replaced by an in-memory one that emits these lines or records; at any other node, they are fed to it in place of its from:.',
    properties: {
      at: {
        type: 'string',
        pattern: NODE_PATTERN,
        description: "The node that receives the input. Default: the pipeline's source, when it has exactly one.",
      },
      lines: {
        type: 'array',
        items: { type: 'string' },
        description: 'Raw lines, as a line source would read them: each becomes `{message, origin: {file, line}}`.',
        examples: [['1715680805.000 812 10.1.1.20 TCP_MISS/200 512 GET http://203.0.113.66:8080/gate.php - DIRECT/203.0.113.66 text/plain']],
      },
      file: {
        type: 'string',
        minLength: 1,
        description:
          '`origin.file` of the lines (default `test.log`). A parser that keeps per-file state (ELFF `#Fields`, `auto` detection) sees each file apart.',
      },
      first_line: { type: 'integer', minimum: 1, default: 1, description: '`origin.line` of the first line; the next lines count up from it.' },
      topic: {
        type: 'string',
        minLength: 1,
        description: 'Give the lines Kafka origins instead of file ones, as the `kafka` source does: `{message, origin: {topic, partition, offset}}`.',
      },
      partition: { type: 'integer', minimum: 0, default: 0, description: '`origin.partition` of the lines (with `topic`).' },
      first_offset: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: '`origin.offset` of the first line (with `topic`); the next lines count up from it.',
      },
      records: {
        type: 'array',
        items: { type: 'object' },
        description: 'Records emitted as they are (for a node that reads records rather than lines).',
      },
      repeat: {
        type: 'integer',
        minimum: 1,
        maximum: 100000,
        default: 1,
        description: 'Emit the lines or records this many times over (volume and window tests); line numbers keep counting.',
      },
    },
    oneOf: [{ required: ['lines'] }, { required: ['records'] }],
    dependencies: { partition: ['topic'], first_offset: ['topic'] },
  };
}

function recordList(what: string): Record<string, unknown> {
  return { type: 'array', items: { type: 'object' }, description: what };
}

function expectationSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    description: 'What the node or port must have emitted (a sink: what it received).',
    properties: {
      count: { type: 'integer', minimum: 0, description: 'Exactly this many records.' },
      records: recordList(
        'Exactly these records, in any order (`ordered: true` for this order). Each gives the fields it checks: nested mappings and dotted keys (`rule.name: x`) compare only the keys given; lists compare element by element and must have the same length.',
      ),
      contains: recordList('Each of these records is among those emitted (others may be too); matched as `records` are.'),
      exact: { type: 'boolean', default: false, description: 'Compare whole records (as JSON, as a sink writes them) instead of only the fields given.' },
      ordered: { type: 'boolean', default: false, description: 'Records must come in the order given.' },
      conditions: {
        type: 'array',
        items: logicRule,
        description: 'json-logic conditions that every emitted record must satisfy.',
        examples: [[{ '==': [{ var: 'threat.enrichments.0.indicator.provider' }, 'feodo'] }]],
      },
    },
  };
}

/** One test. */
export function testCaseSchema(): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'input', 'expect'],
    description: 'A pipeline test: input at one node, expectations at others. Run with `sluice test SPEC`.',
    properties: {
      name: { type: 'string', minLength: 1, description: 'Unique within the pipeline; `--filter` selects tests by it.' },
      description: { type: 'string', description: 'What the test shows.' },
      input: {
        description: 'One input or a list of inputs (several files, or several nodes), emitted in order.',
        oneOf: [inputSchema(), { type: 'array', minItems: 1, items: inputSchema() }],
      },
      expect: {
        type: 'object',
        minProperties: 1,
        description: 'Expectations by `node` (its `out` port; a sink: what it received) or `node.port` (`sweep.alerts`, `parse.invalid`).',
        propertyNames: { pattern: REF_PATTERN },
        additionalProperties: expectationSchema(),
      },
    },
  };
}

/** The `tests:` list of a spec. */
export function testsSchema(): Record<string, unknown> {
  return {
    type: 'array',
    items: testCaseSchema(),
    description: 'Pipeline tests run by `sluice test` (in memory, no services); also possible in NAME.test.yaml beside the spec.',
  };
}

/** A side file, `NAME.test.yaml`. */
export function testFileSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'sluice pipeline tests',
    type: 'object',
    additionalProperties: false,
    required: ['tests'],
    properties: {
      spec: { type: 'string', description: 'The pipeline these tests are for, relative to this file. Default: NAME.yaml beside NAME.test.yaml.' },
      vars: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: 'Values of ${NAME} variables when the spec is compiled for these tests (`--var` on the command line wins).',
      },
      tests: testsSchema(),
    },
  };
}
