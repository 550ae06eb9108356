import cron from 'node-cron';

/** Why a cron expression (`schedule:`) is invalid, or undefined when node-cron accepts it. */
export function validateCron(expr: string): string | undefined {
  return cron.validate(expr) ? undefined : `'${expr}' is not a valid cron expression`;
}
