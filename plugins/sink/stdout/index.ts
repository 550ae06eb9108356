/** `stdout` sink: JSON lines (or pretty JSON) on standard output. */
import { definePlugin, type Rec, type SinkInstance } from '../../../src/api.js';

interface StdoutConfig {
  pretty: boolean;
}

export default definePlugin<StdoutConfig>({
  name: 'stdout',
  kind: 'sink',
  summary: 'Print records as JSON lines on standard output (the run summary then goes to stderr).',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      pretty: { type: 'boolean', default: false, description: 'Indented JSON, one record per block.' },
    },
  },
  examples: [{ title: 'Watch alerts in the terminal', with: { pretty: true } }],
  create(config): SinkInstance {
    let pending = '';
    return {
      target: 'standard output',
      write(records: Rec[]) {
        for (const r of records) pending += (config.pretty ? JSON.stringify(r, null, 2) : JSON.stringify(r)) + '\n';
      },
      async flush() {
        if (!pending) return;
        const text = pending;
        pending = '';
        if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
      },
      async close() {
        await this.flush();
      },
    };
  },
});
