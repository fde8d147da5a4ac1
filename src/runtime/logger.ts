/** Severity of a log record, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured context attached to a log record. */
export type LogMeta = Record<string, unknown>;

/**
 * Where the runtime writes crash reports and lifecycle notes. Shaped like pino/console so an
 * application's own logger can be passed as is.
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing to the console, from `level` up (default `'warn'`: crash reports and
 * warnings only, so an embedding service is not flooded).
 */
export function consoleLogger(level: LogLevel = 'warn', prefix = '[xotp]'): Logger {
  const enabled = (l: LogLevel) => order[l] >= order[level];
  const write = (l: LogLevel, message: string, meta?: LogMeta) => {
    if (!enabled(l)) return;
    const line = `${prefix} ${l} ${message}`;
    const out = l === 'error' || l === 'warn' ? console.error : console.log;
    out(meta && Object.keys(meta).length > 0 ? `${line} ${compact(meta)}` : line);
  };
  return {
    debug: (m, meta) => write('debug', m, meta),
    info: (m, meta) => write('info', m, meta),
    warn: (m, meta) => write('warn', m, meta),
    error: (m, meta) => write('error', m, meta),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** @internal */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const l = value as Record<string, unknown>;
  return (['debug', 'info', 'warn', 'error'] as const).every((k) => typeof l[k] === 'function');
}

function compact(meta: LogMeta): string {
  try {
    return JSON.stringify(meta, (_key, value: unknown) =>
      value instanceof Error ? `${value.name}: ${value.message}` : typeof value === 'bigint' ? String(value) : value,
    );
  } catch {
    return '[unserialisable meta]';
  }
}
