/** `filter`: keep the records for which a json-logic condition holds; count the rest as filtered. */
import { definePlugin, compileLogic, validateLogic, type Rec, type ProcessorInstance } from '../../../src/api.js';
import { LOGIC_CODES } from '../../../src/internal.js';

interface FilterConfig {
  when: unknown;
}

export default definePlugin<FilterConfig>({
  name: 'filter',
  kind: 'transform',
  summary: 'Keep records matching a json-logic condition; the others are dropped and counted as filtered.',
  configCodes: { LOGIC_INVALID: LOGIC_CODES.LOGIC_INVALID },
  description: 'Records that do not match are counted in the `filtered` metric and acknowledged as delivered.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['when'],
    properties: {
      when: {
        description: 'json-logic condition over the record (e.g. `{"==": [{"var": "http.request.method"}, "POST"]}`).',
        examples: [{ '!=': [{ var: 'http.response.status_code' }, 407] }],
      },
    },
  },
  examples: [{ title: 'Drop proxy authentication challenges', with: { when: { '!=': [{ var: 'http.response.status_code' }, 407] } } }],
  parallel: 'any',
  check(config) {
    return validateLogic(config.when, '/when').map((i) => ({ path: i.path, message: i.message, code: 'LOGIC_INVALID' }));
  },
  create(config, ctx): ProcessorInstance {
    const cond = compileLogic(config.when);
    return {
      process(records: Rec[]) {
        const kept: Rec[] = [];
        for (let i = 0; i < records.length; i++) if (cond.test(records[i])) kept.push(records[i]!);
        const dropped = records.length - kept.length;
        if (dropped) ctx.metrics.add('filtered', dropped);
        return { out: kept };
      },
    };
  },
});
