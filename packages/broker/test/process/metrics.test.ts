// metrics - Prometheus text exposition: HELP/TYPE, label escaping, counters, gauges, histograms.
import { describe, expect, it } from "vitest";
import { MetricsRegistry, escapeLabelValue } from "../../src/metrics.js";

describe("metrics - Prometheus text format", () => {
  it("declares HELP and TYPE for the broker's metrics even before first use", () => {
    const text = new MetricsRegistry().render();
    expect(text).toContain("# HELP connections_rejected_total ");
    expect(text).toContain("# TYPE connections_rejected_total counter");
    expect(text).toContain("# TYPE http_request_duration_seconds histogram");
    expect(text).toContain("# TYPE store_errors_total counter");
    expect(text.endsWith("\n")).toBe(true);
  });

  it("counts counters per label set regardless of label order", () => {
    const m = new MetricsRegistry();
    m.inc("connections_rejected_total", { reason: "replay" });
    m.inc("connections_rejected_total", { reason: "replay" }, 2);
    m.inc("http_requests_total", { status: "200", route: "/health", method: "GET" });
    m.inc("http_requests_total", { method: "GET", route: "/health", status: "200" });
    const text = m.render();
    expect(text).toContain('connections_rejected_total{reason="replay"} 3');
    expect(text).toContain('http_requests_total{method="GET",route="/health",status="200"} 2');
    expect(m.value("connections_rejected_total", { reason: "replay" })).toBe(3);
  });

  it("escapes backslash, quote and newline in label values", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const m = new MetricsRegistry();
    m.inc("odd_total", { path: 'x"y\nz' });
    expect(m.render()).toContain('odd_total{path="x\\"y\\nz"} 1');
  });

  it("sets gauges and rejects a counter going down or a type change", () => {
    const m = new MetricsRegistry();
    m.set("connections_active", 5);
    m.set("connections_active", 3);
    expect(m.render()).toContain("connections_active 3");
    expect(() => m.inc("x_total", {}, -1)).toThrow(/only increase/);
    expect(() => m.set("connections_rejected_total", 1)).toThrow(/is a counter/);
    expect(() => m.inc("bad name")).toThrow(/invalid metric name/);
    expect(() => m.inc("x_total", { "bad-label": "v" })).toThrow(/invalid metric label name/);
  });

  it("renders cumulative histogram buckets, +Inf, sum and count", () => {
    const m = new MetricsRegistry();
    m.describe("lat_seconds", { type: "histogram", help: "latency", buckets: [0.1, 1] });
    m.observe("lat_seconds", 0.05, { route: "/x" });
    m.observe("lat_seconds", 0.5, { route: "/x" });
    m.observe("lat_seconds", 5, { route: "/x" });
    const text = m.render();
    expect(text).toContain('lat_seconds_bucket{route="/x",le="0.1"} 1');
    expect(text).toContain('lat_seconds_bucket{route="/x",le="1"} 2');
    expect(text).toContain('lat_seconds_bucket{route="/x",le="+Inf"} 3');
    expect(text).toContain('lat_seconds_sum{route="/x"} 5.55');
    expect(text).toContain('lat_seconds_count{route="/x"} 3');
  });

  it("gives an undeclared metric a HELP line so the output stays valid", () => {
    const m = new MetricsRegistry();
    m.inc("pushes_total");
    expect(m.render()).toMatch(
      /# HELP pushes_total pushes total\n# TYPE pushes_total counter\npushes_total 1/,
    );
  });
});
