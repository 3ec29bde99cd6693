/**
 * A failure reaching a resource on Airlock's own side (STS, credentials), in no front's
 * protocol: each front renders it its own way (AWS: refused → 403 AccessDeniedException,
 * unavailable → 503 ServiceUnavailable). Keeps upstream/ below the fronts in the layering.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    /** refused: the other side said no; unavailable: it could not be reached. Both fail closed. */
    readonly kind: 'refused' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}
