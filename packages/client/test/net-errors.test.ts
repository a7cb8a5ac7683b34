// net-errors - short phrases for network failures, through fetch's cause chains and AggregateErrors.
import { describe, expect, it } from "vitest";
import { describeNetworkError, unreachableError } from "../src/net-errors.js";

const coded = (code: string): Error => Object.assign(new Error(`boom ${code}`), { code });

describe("describeNetworkError", () => {
  it("names known codes, also inside fetch's `cause` and AggregateErrors", () => {
    expect(describeNetworkError(coded("ECONNREFUSED"))).toBe("connection refused");
    expect(describeNetworkError(new TypeError("fetch failed", { cause: coded("ENOTFOUND") }))).toBe(
      "host not found",
    );
    const aggregate = new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")], "all failed");
    expect(describeNetworkError(new TypeError("fetch failed", { cause: aggregate }))).toBe(
      "connection refused",
    );
  });

  it("spells unknown codes readably and falls back to the message, never to 'fetch failed'", () => {
    expect(describeNetworkError(coded("ERR_SOMETHING_ODD"))).toBe("err something odd");
    expect(describeNetworkError(new Error("socket hang up"))).toBe("socket hang up");
    expect(describeNetworkError(new TypeError("fetch failed"))).toBe("network error");
    expect(describeNetworkError("weird")).toBe("network error");
  });

  it("stops on cyclic cause chains", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeNetworkError(a)).toBe("a");
  });

  it("builds the unreachable error with the hint", () => {
    const err = unreachableError("http://127.0.0.1:7900", coded("ECONNRESET"));
    expect(err.code).toBe("unreachable");
    expect(err.message).toBe(
      "cannot reach broker at http://127.0.0.1:7900 (connection reset) — is `claudemesh broker` running?",
    );
  });
});
