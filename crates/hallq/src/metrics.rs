//! Request latency histograms, and the Prometheus text for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the request latency buckets, in seconds.
const LATENCY_BOUNDS_S: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Clone, Default)]
struct Histogram {
    buckets: [u64; LATENCY_BOUNDS_S.len()],
    count: u64,
    sum_s: f64,
}

/// Per route pattern and method. Route patterns, not paths: the label set stays small.
#[derive(Default)]
pub struct RequestMetrics {
    histograms: Mutex<BTreeMap<(String, String, u16), Histogram>>,
}

impl RequestMetrics {
    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut histograms) = self.histograms.lock() else {
            return;
        };
        // Status class only: keeps the series few.
        let class = status / 100 * 100;
        let histogram = histograms
            .entry((route.to_owned(), method.to_owned(), class))
            .or_default();
        histogram.count += 1;
        histogram.sum_s += seconds;
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BOUNDS_S) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    pub fn render(&self, out: &mut String) {
        let histograms = self
            .histograms
            .lock()
            .map(|h| h.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "# HELP hallq_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(out, "# TYPE hallq_http_request_duration_seconds histogram");
        for ((route, method, class), histogram) in histograms {
            let labels = format!(
                "route=\"{}\",method=\"{method}\",status=\"{}xx\"",
                escape(&route),
                class / 100
            );
            for (bound, count) in LATENCY_BOUNDS_S.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "hallq_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "hallq_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "hallq_http_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum_s
            );
            let _ = writeln!(
                out,
                "hallq_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
    }
}

/// Escapes a Prometheus label value.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes one metric family with its help and type lines.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}
