/** Progress bars on a terminal (stderr); nothing when stderr is not a terminal. */
import cliProgress from 'cli-progress';
import type { EvalProgress } from '../eval/run.js';

export const logLine = (line: string): void => void process.stderr.write(`${line}\n`);

/** One bar per evaluation: users scored so far. */
export const evalProgressBar: EvalProgress = (label) => {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} users`, stream: process.stderr, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
};

export interface TrainingBar {
  update(done: number, total: number, label: string, info?: Readonly<Record<string, number>>): void;
  log(line: string): void;
  stop(): void;
}

/** One bar per epoch on a terminal (steps, loss, lr, steps/s), cleared before each log line. */
export function trainingBar(): TrainingBar {
  if (!process.stderr.isTTY) return { update() {}, log: logLine, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: '{label} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {sps} steps/s',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  let currentLabel = '';
  return {
    update(done, total, label, info) {
      const payload = {
        label,
        loss: info?.loss?.toFixed(4) ?? '-',
        lr: info?.lr?.toPrecision(3) ?? '-',
        sps: info?.stepsPerSecond?.toFixed(1) ?? '-',
      };
      if (!running || label !== currentLabel) {
        if (running) bar.stop();
        bar.start(total, done, payload);
        running = true;
        currentLabel = label;
      } else {
        bar.update(done, payload);
      }
    },
    log(line) {
      if (running) {
        bar.stop();
        running = false;
      }
      logLine(line);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
