/**
 * Option declarations: each option is declared once — its snake_case name (the flag, the grid key,
 * the checkpoint metadata key), its type, limits, default and help — and from that one declaration
 * come the typed config (camelCase keys), the validation of every way a value arrives (CLI flags as
 * strings, grid files as YAML scalars, library calls as typed values, model files' metadata) and the
 * `--help` text. Values are validated by zod; an error is one line naming the option the way its
 * source spells it (`--hidden_units`, `hiddenUnits`, `metadata "config": hidden_units`).
 */
import { z } from 'zod';
import { quote, UserError } from './errors.js';

/** snake_case → camelCase, as a type: `hidden_units` → `hiddenUnits`. */
export type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

export function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function snake(name: string): string {
  return name
    .replace(/-/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** How an option is named in an error message, by where its value came from. */
export type Naming = (option: string) => string;

/** CLI flags and grid entries: `--hidden_units`. */
export const asFlag: Naming = (o) => `--${o}`;
/** Library calls: `hiddenUnits`. */
export const asKey: Naming = (o) => camel(o);
/** Values read from a file's metadata: `<where>: hidden_units`. */
export const inFile =
  (where: string): Naming =>
  (o) =>
    `${where}: ${o}`;

export type OptionKind = 'int' | 'number' | 'bool' | 'string' | 'choice' | 'int-list';

/** One declared option. `T` is the parsed value's type (with `undefined` when it has no default). */
export interface Option<T> {
  readonly kind: OptionKind;
  readonly help: string;
  /** the value's placeholder in --help (`<n>`) */
  readonly arg: string;
  readonly default: T | undefined;
  /** for 'choice' options: the accepted values */
  readonly choices?: readonly string[];
  /** validates and converts one raw value (a string from the command line, or a typed value) */
  readonly schema: z.ZodType<T>;
}

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A string from the command line as a number; anything else as it is. */
function numberFromString(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  return s === '' || !Number.isFinite(Number(s)) ? v : Number(s);
}

function bound(text: string, n: number): string {
  return `${text} ${n}`;
}

interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  /** exclusive lower bound */
  readonly above?: number;
  /** exclusive upper bound */
  readonly below?: number;
}

function describeRange(what: string, b: NumberBounds): string {
  const parts: string[] = [];
  if (b.min !== undefined) parts.push(bound('≥', b.min));
  if (b.above !== undefined) parts.push(bound('>', b.above));
  if (b.below !== undefined) parts.push(bound('<', b.below));
  if (parts.length === 2 && b.min !== undefined && b.below !== undefined) return `${what} in [${b.min}, ${b.below})`;
  return parts.length === 0 ? what : `${what} ${parts.join(' and ')}`;
}

function numberSchema(integer: boolean, b: NumberBounds): z.ZodType<number> {
  const expected = describeRange(integer ? 'an integer' : 'a number', b);
  const fail = (input: unknown) => `expected ${expected}, got ${shown(input)}`;
  return z.preprocess(
    numberFromString,
    z.unknown().transform((v, ctx) => {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!integer || Number.isInteger(v)) &&
        (b.min === undefined || v >= b.min) &&
        (b.above === undefined || v > b.above) &&
        (b.below === undefined || v < b.below);
      if (!ok) {
        ctx.addIssue({ code: 'custom', message: fail(v) });
        return z.NEVER;
      }
      if (b.max !== undefined && v > b.max) {
        ctx.addIssue({ code: 'custom', message: `at most ${b.max}, got ${shown(v)}` });
        return z.NEVER;
      }
      return v;
    }),
  ) as z.ZodType<number>;
}

interface Common<T> {
  readonly help: string;
  readonly default?: T;
  readonly arg?: string;
}

function option<T>(kind: OptionKind, o: Common<T>, schema: z.ZodType<T>, arg: string, choices?: readonly string[]): Option<T> {
  return { kind, help: o.help, arg: o.arg ?? arg, default: o.default, schema, ...(choices ? { choices } : {}) };
}

type WithDefault<T, O> = O extends { default: T } ? T : T | undefined;

/** Integers are at most 2^31 − 1 unless an option says otherwise: past that, index arithmetic overflows. */
const INT_MAX = 2 ** 31 - 1;

export function int<O extends Common<number> & NumberBounds>(o: O): Option<WithDefault<number, O>> {
  return option('int', o, numberSchema(true, { ...o, max: o.max ?? INT_MAX }), 'n') as Option<WithDefault<number, O>>;
}

export function num<O extends Common<number> & NumberBounds>(o: O): Option<WithDefault<number, O>> {
  return option('number', o, numberSchema(false, o), 'x') as Option<WithDefault<number, O>>;
}

/** true/false (also 1/0, any case); a bare CLI flag is true. */
export function bool<O extends Common<boolean>>(o: O): Option<WithDefault<boolean, O>> {
  const schema = z.unknown().transform((v, ctx) => {
    if (v === true || v === false) return v;
    const s = String(v).trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got ${shown(v)}` });
    return z.NEVER;
  });
  return option('bool', o, schema, 'bool') as Option<WithDefault<boolean, O>>;
}

export function str<O extends Common<string>>(o: O): Option<WithDefault<string, O>> {
  const schema = z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    ctx.addIssue({ code: 'custom', message: `expected a string, got ${shown(v)}` });
    return z.NEVER;
  });
  return option('string', o, schema, 'value') as Option<WithDefault<string, O>>;
}

export function choice<const C extends readonly string[], O extends Common<C[number]>>(choices: C, o: O): Option<WithDefault<C[number], O>> {
  const list = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  const schema = z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as C[number];
    ctx.addIssue({ code: 'custom', message: `expected ${list}, got ${shown(v)}` });
    return z.NEVER;
  });
  return option('choice', o, schema, 'name', choices) as Option<WithDefault<C[number], O>>;
}

/** Positive integers, comma- or space-separated on the command line ("5,10,20"), or an array. */
export function intList<O extends Common<number[]>>(o: O): Option<WithDefault<number[], O>> {
  const schema = z.unknown().transform((v, ctx) => {
    const parts = Array.isArray(v) ? v.map(String) : typeof v === 'number' ? [String(v)] : typeof v === 'string' ? v.split(/[,\s]+/) : null;
    const tokens = parts?.map((s) => s.trim());
    if (!tokens || tokens.length === 0 || tokens.some((s) => !/^\d+$/.test(s) || Number(s) < 1)) {
      ctx.addIssue({ code: 'custom', message: `expected comma-separated positive integers, got ${shown(Array.isArray(v) ? v.join(',') : v)}` });
      return z.NEVER;
    }
    return tokens.map(Number);
  });
  return option('int-list', o, schema, 'list') as Option<WithDefault<number[], O>>;
}

export type Options = Readonly<Record<string, Option<unknown>>>;

/** The typed config of a set of options: camelCase keys, defaults applied. */
export type ConfigOf<O extends Options> = { -readonly [K in keyof O & string as Camel<K>]: O[K] extends Option<infer T> ? T : never };

/**
 * A cross-option rule: undefined when the config is fine, else [the option to blame, the problem].
 * (Declared as a method so that a group of particular options is still an OptionGroup.)
 */
export type Rule<C> = { check(config: C, name: Naming): readonly [option: string, problem: string] | undefined }['check'];

/** An error in one option's value; the message names the option as its source spells it. */
export class OptionError extends UserError {
  constructor(
    readonly option: string,
    readonly problem: string,
    naming: Naming,
  ) {
    super(`${naming(option)}: ${problem}`);
    this.name = 'OptionError';
  }
}

/** A set of options with their rules: parses raw values into the typed config. */
export class OptionGroup<O extends Options = Options> {
  private readonly schema: z.ZodObject;

  constructor(
    readonly options: O,
    readonly rules: ReadonlyArray<Rule<ConfigOf<O>>> = [],
  ) {
    const shape: Record<string, z.ZodType> = {};
    for (const [name, opt] of Object.entries(options)) {
      shape[name] = opt.default === undefined ? opt.schema.optional() : opt.schema.default(opt.default as never);
    }
    this.schema = z.object(shape);
  }

  /** The options' snake_case names. */
  get names(): string[] {
    return Object.keys(this.options);
  }

  has(name: string): boolean {
    return Object.hasOwn(this.options, snake(name));
  }

  /**
   * The typed config from raw values under any spelling of the names (snake_case, camelCase,
   * kebab-case); keys of other groups are ignored, absent options get their defaults. Throws an
   * OptionError naming the first bad option.
   */
  parse(raw: object, naming: Naming = asFlag): ConfigOf<O> {
    const picked: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      const name = snake(key);
      if (value === undefined || !Object.hasOwn(this.options, name)) continue;
      // one option in two spellings (--hidden_units 50 --hidden-units 40): neither silently wins
      if (Object.hasOwn(picked, name) && String(picked[name]) !== String(value)) {
        throw new OptionError(name, `given twice with different values (${quote(String(picked[name]))} and ${quote(String(value))})`, naming);
      }
      picked[name] = value;
    }
    const result = this.schema.safeParse(picked);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new OptionError(String(issue.path[0] ?? '?'), issue.message, naming);
    }
    const config: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(result.data)) config[camel(name)] = value;
    const typed = config as ConfigOf<O>;
    for (const rule of this.rules) {
      const broken = rule(typed, naming);
      if (broken) throw new OptionError(broken[0], broken[1], naming);
    }
    return typed;
  }

  /** The same options and rules with other defaults (e.g. a model's own maxlen). */
  withDefaults(defaults: { readonly [K in keyof ConfigOf<O>]?: ConfigOf<O>[K] }): OptionGroup<O> {
    const options: Record<string, Option<unknown>> = { ...this.options };
    for (const [key, value] of Object.entries(defaults)) {
      const name = snake(key);
      const opt = options[name];
      if (!opt) throw new Error(`withDefaults: no option ${name}`);
      options[name] = { ...opt, default: value };
    }
    return new OptionGroup(options as unknown as O, this.rules);
  }

  /** These options and rules plus another group's. */
  with<P extends Options>(other: OptionGroup<P>): OptionGroup<O & P> {
    for (const name of other.names) if (this.has(name)) throw new Error(`option ${name} declared twice`);
    return new OptionGroup({ ...this.options, ...other.options } as O & P, [
      ...(this.rules as ReadonlyArray<Rule<ConfigOf<O & P>>>),
      ...(other.rules as ReadonlyArray<Rule<ConfigOf<O & P>>>),
    ]);
  }

  /** These options with one more rule. */
  rule(r: Rule<ConfigOf<O>>): OptionGroup<O> {
    return new OptionGroup(this.options, [...this.rules, r]);
  }

  /** The options named, as a group of their own (their rules are not carried over). */
  pick<K extends keyof O & string>(...names: K[]): OptionGroup<Pick<O, K>> {
    const picked: Record<string, Option<unknown>> = {};
    for (const n of names) picked[n] = this.options[n];
    return new OptionGroup(picked as Pick<O, K>);
  }
}

export function defineOptions<O extends Options>(options: O): OptionGroup<O> {
  return new OptionGroup(options);
}

/** The given keys that no group reads, as snake_case names (for "unknown option" errors and notes). */
export function unreadKeys(raw: object, groups: ReadonlyArray<OptionGroup>): string[] {
  return Object.entries(raw)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k)
    .map(snake)
    .filter((name) => !groups.some((g) => g.has(name)));
}
