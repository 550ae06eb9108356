import cron from 'node-cron';

/** Why a cron expression is invalid, or undefined when node-cron accepts it. */
export function validateCron(expr: string): string | undefined {
  return cron.validate(expr) ? undefined : `'${expr}' is not a valid cron expression`;
}

/**
 * Run `job` on the cron schedule, never two at once: a tick that comes while the previous run is
 * still going is skipped (and logged by the caller through `onSkip`).
 */
export function scheduleWithoutOverlap(expr: string, job: () => Promise<void>, onSkip: () => void): { stop(): void } {
  let running = false;
  const task = cron.schedule(expr, async () => {
    if (running) {
      onSkip();
      return;
    }
    running = true;
    try {
      await job();
    } finally {
      running = false;
    }
  });
  return { stop: () => void task.stop() };
}
