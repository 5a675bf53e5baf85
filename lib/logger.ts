// Structured JSON logs (winston). Every component gets a child logger that names it; request-scoped
// loggers add the admission uid or request id. Secrets never go through here: callers log names, not data.
import winston from 'winston';

export type Logger = winston.Logger;

const level = process.env.TENANTGATE_LOG_LEVEL ?? (process.env.VITEST ? 'error' : 'info');

export const rootLogger: Logger = winston.createLogger({
  level,
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    winston.format.json(),
  ),
  transports: [
    new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose'] }),
  ],
});

export function componentLogger(component: string, fields: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...fields });
}
