/** Reading the JSON-lines files a test run's file sinks wrote. */
import { readFileSync } from 'node:fs';

/**
 * The records of a JSON-lines file, each as JSON text without its `@timestamp` (a reject carries
 * the time it was made, which differs between two runs of the same input), in file order.
 */
export function linesWithoutTime(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const { '@timestamp': _, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
}
