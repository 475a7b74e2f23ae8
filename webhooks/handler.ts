import type { Admission, AdmissionRequest } from './admission.js';

/**
 * One admission webhook: the API server posts AdmissionReviews to `/<name>`. `handle` admits by
 * returning (optionally with a patch), and denies by throwing — preferably a `TrellisError` naming the
 * object, the field and the reason; the server's error funnel turns whatever was thrown into a denied
 * review.
 */
export interface AdmissionHandler {
  /** URL path segment and metric label, e.g. `mutate-components`. */
  name: string;
  handle(request: AdmissionRequest): Promise<Admission>;
}
