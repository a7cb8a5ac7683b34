// Vitest setup file: every property test of the run uses the seed chosen by fast-check-global.ts.
import fc from "fast-check";
import { inject } from "vitest";

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: inject("fcSeed") });
