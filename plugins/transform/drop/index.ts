/**
 * `drop`: remove fields from records.
 */
import { definePlugin, type Rec, type ConfigIssue } from '../../../src/api.js';
import { CowPaths, pathProblem } from '../../../src/internal.js';

export interface DropConfig {
  fields: string[];
}

export default definePlugin<DropConfig>({
  name: 'drop',
  kind: 'transform',
  summary: 'Remove fields (dotted paths) from records.',
  configCodes: {
    FIELD_PATH: 'a field path is empty, has an empty segment, or names a prototype property',
  },
  description: [
    'Removes each listed field when present; a record without it passes unchanged. The input record',
    'is never modified (the output copies only the objects on the removed paths), so other branches',
    'of a fan-out still see the original. Removing a field empties but keeps its parent object.',
  ].join('\n'),
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
        description: 'Dotted field paths to remove, e.g. `user_agent.original`.',
        examples: [['user_agent.original', 'event.original']],
      },
    },
  },
  ports: ['out'],
  parallel: 'any',
  examples: [{ title: 'Drop the raw line and the user agent', with: { fields: ['event.original', 'user_agent.original'] } }],
  check(config) {
    const issues: ConfigIssue[] = [];
    config.fields.forEach((f, i) => {
      const problem = pathProblem(f);
      if (problem) issues.push({ path: `/fields/${i}`, code: 'FIELD_PATH', message: `cannot drop ${problem}` });
    });
    return issues;
  },
  create(config, ctx) {
    const cow = new CowPaths(config.fields);
    const n = config.fields.length;
    return {
      process(records: Rec[]) {
        const out: Rec[] = new Array(records.length);
        let removed = 0;
        for (let r = 0; r < records.length; r++) {
          cow.begin(records[r]!);
          for (let i = 0; i < n; i++) if (cow.delete(i)) removed++;
          out[r] = cow.result();
        }
        if (removed) ctx.metrics.add('fields_removed', removed);
        return { out };
      },
    };
  },
});
