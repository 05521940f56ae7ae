// The HTTP status of a failed Kubernetes API call, whichever shape @kubernetes/client-node gave the
// error (ApiException has `code`, older paths `statusCode`). Here, at the bottom floor, so that the
// probe-pod code and the controller both read it without importing each other.

export function httpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
  }
  return undefined;
}
