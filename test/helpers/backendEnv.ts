/** Runs `fn` with XOTP_BACKEND set to `value` (or unset), restoring it after. Callers are serial tests. */
export async function withBackendEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.XOTP_BACKEND;
  if (value === undefined) delete process.env.XOTP_BACKEND;
  else process.env.XOTP_BACKEND = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.XOTP_BACKEND;
    else process.env.XOTP_BACKEND = before;
  }
}
