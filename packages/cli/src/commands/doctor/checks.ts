// The checks `claudemesh doctor` runs, in order; add a DoctorCheck module here to extend it.
import { brokerCheck } from "./broker.js";
import { configFilesCheck } from "./config-files.js";
import { deliveryRouteCheck } from "./delivery-route.js";
import { hooksCheck } from "./hooks.js";
import { mcpRevisionCheck } from "./mcp-revision.js";
import { registrationCheck } from "./registration.js";
import type { DoctorCheck } from "./types.js";

/** Order matters a little: file modes are read before anything loads (and tightens) the config. */
export const DOCTOR_CHECKS: DoctorCheck[] = [
  configFilesCheck,
  brokerCheck,
  registrationCheck,
  hooksCheck,
  deliveryRouteCheck,
  mcpRevisionCheck,
];
