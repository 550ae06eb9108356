import cron from 'node-cron';

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
