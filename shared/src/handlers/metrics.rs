//! CloudWatch metrics in Embedded Metric Format: one JSON line per invocation (and per extra dimension value),
//! written to stdout, which Lambda sends to CloudWatch Logs, where the metrics are extracted. Names and values
//! only: no personal data.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// The namespace of every leadpipe metric.
pub const NAMESPACE: &str = "leadpipe";

/// The unit of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Milliseconds.
    Milliseconds,
    /// Bytes.
    Bytes,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
            Self::Bytes => "Bytes",
        }
    }
}

/// Metrics sharing one set of dimensions (`function`, plus any added).
#[derive(Debug, Clone)]
pub struct MetricSet {
    timestamp: i64,
    dimensions: Vec<(String, String)>,
    metrics: Vec<(String, f64, Unit)>,
}

impl MetricSet {
    /// An empty set for `function` at `now`.
    pub fn new(function: &str, now: DateTime<Utc>) -> Self {
        Self {
            timestamp: now.timestamp_millis(),
            dimensions: vec![("function".into(), function.into())],
            metrics: vec![],
        }
    }

    /// Adds a dimension (e.g. `reason`).
    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// Adds a metric.
    pub fn metric(mut self, name: &str, value: f64, unit: Unit) -> Self {
        self.metrics.push((name.into(), value, unit));
        self
    }

    /// The EMF JSON document (one line).
    pub fn to_emf(&self) -> String {
        let mut doc = Map::new();
        let dims: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        let defs: Vec<Value> = self.metrics.iter().map(|(n, _, u)| json!({"Name": n, "Unit": u.name()})).collect();
        doc.insert(
            "_aws".into(),
            json!({"Timestamp": self.timestamp,
                   "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dims], "Metrics": defs}]}),
        );
        for (k, v) in &self.dimensions {
            doc.insert(k.clone(), Value::String(v.clone()));
        }
        for (n, v, _) in &self.metrics {
            doc.insert(n.clone(), json!(v));
        }
        Value::Object(doc).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric_and_dimension() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T14:05:00Z").expect("time").with_timezone(&Utc);
        let line = MetricSet::new("extract", now)
            .dimension("reason", "no_rule_matched")
            .metric("quarantined", 2.0, Unit::Count)
            .to_emf();
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["_aws"]["Timestamp"], 1_795_183_500_000_i64);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "leadpipe");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], json!(["function", "reason"]));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0], json!({"Name": "quarantined", "Unit": "Count"}));
        assert_eq!(v["function"], "extract");
        assert_eq!(v["reason"], "no_rule_matched");
        assert_eq!(v["quarantined"], 2.0);
        assert!(!line.contains('\n'));
    }
}
