// Which PostgreSQL / network failures count as "store unavailable" (503) and which are real errors.
import { describe, expect, it } from "vitest";
import { isPgUnavailable } from "../../src/store/postgres/errors.js";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isPgUnavailable", () => {
  it.each(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "EAI_AGAIN"])(
    "network error %s → unavailable",
    (code) => expect(isPgUnavailable(withCode(code))).toBe(true),
  );

  it.each(["57P01", "57P02", "57P03", "08006", "08001", "08003", "53300"])(
    "SQLSTATE %s → unavailable",
    (code) => expect(isPgUnavailable(withCode(code))).toBe(true),
  );

  it.each([
    "Connection terminated unexpectedly",
    "Connection terminated due to connection timeout",
    "timeout exceeded when trying to connect",
    "Client has encountered a connection error and is not queryable",
    "Cannot use a pool after calling end on the pool",
  ])("pg message %j → unavailable", (message) => expect(isPgUnavailable(new Error(message))).toBe(true));

  it("an AggregateError of refused addresses → unavailable", () => {
    expect(isPgUnavailable(new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")]))).toBe(
      true,
    );
  });

  it.each(["23505", "23503", "42P01", "42601", "40001", "22P02"])(
    "SQLSTATE %s is a real error, not an outage",
    (code) =>
      expect(isPgUnavailable(withCode(code, "duplicate key value violates unique constraint"))).toBe(false),
  );

  it("non-errors and plain errors are not outages", () => {
    for (const value of [
      null,
      undefined,
      "ECONNREFUSED",
      42,
      new Error("boom"),
      new AggregateError([new Error("x")]),
    ]) {
      expect(isPgUnavailable(value)).toBe(false);
    }
  });
});
