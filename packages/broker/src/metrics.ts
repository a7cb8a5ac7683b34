// In-process Prometheus metrics: counters, gauges and histograms rendered in the text exposition format.
import type { Labels, Metrics } from "./context.js";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDescription {
  type: MetricType;
  help: string;
  /** Histogram upper bounds, ascending; default DEFAULT_BUCKETS. */
  buckets?: readonly number[];
}

/** Latency buckets in seconds, from 0.1 ms (loopback delivery) to 10 s (a stalled store). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Metrics the broker emits, described once so every one gets `# HELP`/`# TYPE` even before first use. */
export const BROKER_METRICS: Readonly<Record<string, MetricDescription>> = {
  connections_rejected_total: {
    type: "counter",
    help: "WebSocket handshakes rejected, by reason (SPEC §3).",
  },
  connections_active: { type: "gauge", help: "Authenticated WebSocket connections." },
  http_requests_total: { type: "counter", help: "HTTP requests by route, method and status." },
  http_request_duration_seconds: { type: "histogram", help: "HTTP request handling time by route." },
  http_rate_limited_total: { type: "counter", help: "HTTP requests refused with 429, by route." },
  store_errors_total: { type: "counter", help: "Storage failures surfaced to callers, by operation." },
  ws_upgrades_rejected_total: {
    type: "counter",
    help: "WebSocket upgrades refused before the handshake, by reason.",
  },
};

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value per the exposition format: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Canonical series key and rendered label set `{a="x",b="y"}` (sorted, so label order never splits a series). */
function renderLabels(labels: Labels | undefined, extra?: [string, string]): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (extra) entries.push(extra);
  if (entries.length === 0) return "";
  for (const [key] of entries)
    if (!LABEL_RE.test(key)) throw new RangeError(`invalid metric label name "${key}"`);
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`).join(",")}}`;
}

interface HistogramSeries {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

interface Family {
  description: MetricDescription;
  /** counter/gauge values by rendered label key */
  values: Map<string, number>;
  histograms: Map<string, HistogramSeries>;
}

/** Most label combinations per metric; past it new series are dropped (protects memory from label explosions). */
const MAX_SERIES_PER_METRIC = 10_000;

export class MetricsRegistry implements Metrics {
  private readonly families = new Map<string, Family>();

  constructor(descriptions: Readonly<Record<string, MetricDescription>> = BROKER_METRICS) {
    for (const [name, description] of Object.entries(descriptions)) this.describe(name, description);
  }

  /** Declares a metric's type, help text and (for histograms) buckets. */
  describe(name: string, description: MetricDescription): void {
    if (!NAME_RE.test(name)) throw new RangeError(`invalid metric name "${name}"`);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.description.type !== description.type)
        throw new RangeError(`metric "${name}" is already a ${existing.description.type}`);
      existing.description = description;
      return;
    }
    this.families.set(name, { description, values: new Map(), histograms: new Map() });
  }

  private family(name: string, type: MetricType): Family {
    let family = this.families.get(name);
    if (!family) {
      // Undeclared metrics still work, so modules can add one without touching this file.
      this.describe(name, { type, help: name.replace(/_/g, " ") });
      family = this.families.get(name) as Family;
    }
    if (family.description.type !== type)
      throw new RangeError(`metric "${name}" is a ${family.description.type}, not a ${type}`);
    return family;
  }

  inc(name: string, labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`counter "${name}" can only increase`);
    const family = this.family(name, "counter");
    const key = renderLabels(labels);
    const current = family.values.get(key);
    if (current === undefined && family.values.size >= MAX_SERIES_PER_METRIC) return;
    family.values.set(key, (current ?? 0) + by);
  }

  set(name: string, value: number, labels?: Labels): void {
    const family = this.family(name, "gauge");
    const key = renderLabels(labels);
    if (!family.values.has(key) && family.values.size >= MAX_SERIES_PER_METRIC) return;
    family.values.set(key, value);
  }

  observe(name: string, value: number, labels?: Labels): void {
    const family = this.family(name, "histogram");
    const key = renderLabels(labels);
    const buckets = family.description.buckets ?? DEFAULT_BUCKETS;
    let series = family.histograms.get(key);
    if (!series) {
      if (family.histograms.size >= MAX_SERIES_PER_METRIC) return;
      series = { labels: { ...labels }, counts: buckets.map(() => 0), sum: 0, count: 0 };
      family.histograms.set(key, series);
    }
    for (let i = 0; i < buckets.length; i++)
      if (value <= (buckets[i] as number)) series.counts[i] = (series.counts[i] ?? 0) + 1;
    series.sum += value;
    series.count += 1;
  }

  /** Current value of a counter or gauge series (tests and /health internals); 0 when never touched. */
  value(name: string, labels?: Labels): number {
    return this.families.get(name)?.values.get(renderLabels(labels)) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    const names = [...this.families.keys()].sort();
    for (const name of names) {
      const family = this.families.get(name) as Family;
      const { type, help } = family.description;
      lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
      if (type === "histogram") {
        const buckets = family.description.buckets ?? DEFAULT_BUCKETS;
        for (const series of family.histograms.values()) {
          // Buckets are cumulative by construction in observe().
          buckets.forEach((le, i) => {
            lines.push(
              `${name}_bucket${renderLabels(series.labels, ["le", formatNumber(le)])} ${series.counts[i] ?? 0}`,
            );
          });
          lines.push(`${name}_bucket${renderLabels(series.labels, ["le", "+Inf"])} ${series.count}`);
          lines.push(`${name}_sum${renderLabels(series.labels)} ${formatNumber(series.sum)}`);
          lines.push(`${name}_count${renderLabels(series.labels)} ${series.count}`);
        }
      } else {
        for (const [key, value] of family.values) lines.push(`${name}${key} ${formatNumber(value)}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}

/** The metrics registry handed to every broker module through the context. */
export function createMetrics(): MetricsRegistry {
  return new MetricsRegistry();
}
