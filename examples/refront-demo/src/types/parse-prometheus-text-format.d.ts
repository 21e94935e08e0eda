declare module 'parse-prometheus-text-format' {
  /** One metric family of a Prometheus text exposition. */
  interface MetricFamily {
    name: string;
    help: string;
    type: string;
    metrics: unknown[];
  }
  /** Parses the Prometheus text format; throws on malformed input. */
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
