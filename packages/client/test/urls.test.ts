// urls - broker URL normalisation between the http(s) and ws(s) forms.
import { describe, expect, it } from "vitest";
import { brokerUrls, httpBaseUrl, wsUrl } from "../src/urls.js";
import { ClientError } from "../src/errors.js";

describe("brokerUrls", () => {
  it.each([
    ["http://127.0.0.1:7900", "http://127.0.0.1:7900", "ws://127.0.0.1:7900/ws"],
    ["http://127.0.0.1:7900/", "http://127.0.0.1:7900", "ws://127.0.0.1:7900/ws"],
    ["ws://127.0.0.1:7900", "http://127.0.0.1:7900", "ws://127.0.0.1:7900/ws"],
    ["ws://127.0.0.1:7900/ws", "http://127.0.0.1:7900", "ws://127.0.0.1:7900/ws"],
    ["ws://127.0.0.1:7900/ws/", "http://127.0.0.1:7900", "ws://127.0.0.1:7900/ws"],
    ["https://mesh.example.com", "https://mesh.example.com", "wss://mesh.example.com/ws"],
    ["wss://mesh.example.com/ws", "https://mesh.example.com", "wss://mesh.example.com/ws"],
    ["https://example.com/claudemesh/", "https://example.com/claudemesh", "wss://example.com/claudemesh/ws"],
    ["  http://localhost:7900  ", "http://localhost:7900", "ws://localhost:7900/ws"],
  ])("%s → %s and %s", (input, http, ws) => {
    expect(brokerUrls(input)).toEqual({ httpBase: http, wsUrl: ws });
    expect(httpBaseUrl(input)).toBe(http);
    expect(wsUrl(input)).toBe(ws);
  });

  it.each(["", "127.0.0.1:7900", "ftp://host:21", "not a url", "http://user:pw@host:7900"])(
    "rejects %j with invalid_argument",
    (input) => {
      let caught: unknown;
      try {
        brokerUrls(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ClientError);
      expect((caught as ClientError).code).toBe("invalid_argument");
      expect((caught as ClientError).message).toMatch(/broker URL/);
    },
  );
});
