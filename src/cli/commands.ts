import type { Command } from 'commander';
import { register as compare } from './compare.js';
import { register as convert } from './convert.js';
import { register as convertModel } from './convert-model.js';
import { register as data } from './data.js';
import { register as demo } from './demo.js';
import { register as evalCmd } from './eval.js';
import { register as experiments } from './experiments.js';
import { register as exportCmd } from './export.js';
import { register as explain } from './explain.js';
import { register as recommend } from './recommend.js';
import { register as report } from './report.js';
import { register as serve } from './serve.js';
import { register as train } from './train.js';

/** Each subcommand module exports a register(program) function; list them here. */
export const commandModules: Array<(program: Command) => void> = [
  convert,
  convertModel,
  data,
  train,
  evalCmd,
  compare,
  recommend,
  serve,
  exportCmd,
  experiments,
  explain,
  report,
  demo,
];
