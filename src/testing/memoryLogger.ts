import type { Logger, LogLevel, LogMeta } from '../runtime/logger.js';

/** One record kept by a `MemoryLogger`. */
export interface LogRecord {
  level: LogLevel;
  message: string;
  meta: LogMeta | undefined;
}

/** A logger that keeps every record in memory, for tests to assert on; optionally echoes them. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[] = [];
  readonly #echo: boolean;

  constructor(options: { echo?: boolean } = {}) {
    this.#echo = options.echo ?? false;
  }

  debug(message: string, meta?: LogMeta): void {
    this.#add('debug', message, meta);
  }
  info(message: string, meta?: LogMeta): void {
    this.#add('info', message, meta);
  }
  warn(message: string, meta?: LogMeta): void {
    this.#add('warn', message, meta);
  }
  error(message: string, meta?: LogMeta): void {
    this.#add('error', message, meta);
  }

  /** The records at `level` (all of them if omitted). */
  at(level?: LogLevel): LogRecord[] {
    return level === undefined ? [...this.records] : this.records.filter((r) => r.level === level);
  }

  #add(level: LogLevel, message: string, meta: LogMeta | undefined): void {
    this.records.push({ level, message, meta });
    if (this.#echo) console.log(`[${level}] ${message}`);
  }
}
