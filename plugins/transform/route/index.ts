/** `route`: send each record to the port of the first (or every) json-logic condition it matches. */
import { definePlugin, compileLogic, validateLogic, type Rec, type ProcessorInstance } from '../../../src/api.js';
import { LOGIC_CODES } from '../../../src/internal.js';

interface RouteConfig {
  routes: Record<string, unknown>;
  mode: 'first' | 'all';
}

const RESERVED = 'unmatched';

export default definePlugin<RouteConfig>({
  name: 'route',
  kind: 'transform',
  summary: 'Send records to named ports by json-logic conditions; records matching none go to `unmatched`.',
  configCodes: { LOGIC_INVALID: LOGIC_CODES.LOGIC_INVALID },
  description: [
    'Each key of `routes` becomes an output port, in order. In `first` mode a record goes to the first route',
    'it matches; in `all` mode to every route it matches. Records matching no route go to `unmatched`.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['routes'],
    properties: {
      routes: {
        type: 'object',
        minProperties: 1,
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]*$', not: { const: RESERVED } },
        additionalProperties: { description: 'json-logic condition for this port.' },
        description: 'Port name → json-logic condition.',
      },
      mode: { enum: ['first', 'all'], default: 'first', description: 'First matching route only, or every matching route.' },
    },
  },
  ports: (config) => [...Object.keys(config?.routes ?? {}), RESERVED],
  examples: [
    {
      title: 'Split denied requests from the rest',
      with: { routes: { denied: { '>=': [{ var: 'http.response.status_code' }, 400] }, allowed: { '<': [{ var: 'http.response.status_code' }, 400] } } },
    },
  ],
  parallel: 'any',
  check(config) {
    return Object.entries(config.routes).flatMap(([name, rule]) =>
      validateLogic(rule, `/routes/${name}`).map((i) => ({ path: i.path, message: i.message, code: 'LOGIC_INVALID' })),
    );
  },
  create(config): ProcessorInstance {
    const names = Object.keys(config.routes);
    const conds = names.map((n) => compileLogic(config.routes[n]));
    const all = config.mode === 'all';
    return {
      process(records: Rec[]) {
        const outs: Rec[][] = names.map(() => []);
        const unmatched: Rec[] = [];
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          let hit = false;
          for (let k = 0; k < conds.length; k++) {
            if (conds[k]!.test(r)) {
              outs[k]!.push(r);
              hit = true;
              if (!all) break;
            }
          }
          if (!hit) unmatched.push(r);
        }
        const result: Record<string, Rec[]> = { [RESERVED]: unmatched };
        names.forEach((n, k) => {
          result[n] = outs[k]!;
        });
        return result;
      },
    };
  },
});
