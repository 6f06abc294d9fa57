import type { Command } from 'commander';

/** Each subcommand module exports a register(program) function; list them here. */
export const commandModules: Array<(program: Command) => void> = [];
