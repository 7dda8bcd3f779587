//! The text form of a scale report.

use std::fmt::Write as _;

use super::{show_size, ScaleReport};
use crate::{aligned, rss};

/// Hex digits of a checksum shown in the table (the JSON has them whole).
const SHORT: usize = 12;

impl ScaleReport {
    /// The table of runs, the ratios, the checksums and any mismatch.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "readmodel bench --scale: run --all --full over {} models; backends measured: {}",
            self.models,
            self.backends.join(", ")
        );
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(
            out,
            "machine: {} cores{}; {}",
            self.machine.cores,
            self.machine
                .cpu
                .as_ref()
                .map_or(String::new(), |c| format!(" ({c})")),
            self.date
        );
        let _ = writeln!(out);
        self.runs_table(&mut out);
        let _ = writeln!(out);
        for ratio in &self.ratios {
            let _ = writeln!(
                out,
                "{}: log events/s at {} / at {}: {:.2}",
                ratio.backend,
                show_size(ratio.largest),
                show_size(ratio.smallest),
                ratio.log_events_per_second
            );
        }
        self.checksums_table(&mut out);
        out
    }

    fn runs_table(&self, out: &mut String) {
        // With --repeat, the seconds shown are the median pass's, and every pass follows.
        let repeated = self.passes() > 1;
        let mut header = vec![
            "backend",
            "size",
            "log events",
            "gens",
            if repeated { "median s" } else { "run s" },
            "log ev/s",
            "model ev",
            "model ev/s",
            "peak RSS",
        ];
        if repeated {
            header.push("passes s");
        }
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
        for r in &self.runs {
            let mut line = vec![
                r.backend.to_owned(),
                show_size(r.size),
                r.log_events.to_string(),
                r.generations.to_string(),
                format!("{:.2}", r.seconds),
                format!("{:.0}", r.log_events_per_second),
                r.model_events.to_string(),
                format!("{:.0}", r.model_events_per_second),
                rss::show(r.peak_rss_kib),
            ];
            if repeated {
                let passes: Vec<String> =
                    r.pass_seconds.iter().map(|s| format!("{s:.2}")).collect();
                line.push(passes.join(" "));
            }
            lines.push(line);
        }
        aligned(out, &lines, 1);
    }

    fn checksums_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "checksums (first {SHORT} hex digits; whole in the JSON), equal across backends at every size: {}",
            match (self.backends.len(), self.checksums_match) {
                (1, _) => "only one backend measured",
                (_, true) => "yes",
                (_, false) => "NO",
            }
        );
        let mut header = vec!["model".to_owned()];
        header.extend(
            self.runs
                .iter()
                .map(|r| format!("{} {}", r.backend, show_size(r.size))),
        );
        let mut lines = vec![header];
        let models = self
            .runs
            .first()
            .map(|r| r.checksums.keys().collect::<Vec<_>>());
        for model in models.unwrap_or_default() {
            let mut line = vec![model.clone()];
            line.extend(
                self.runs
                    .iter()
                    .map(|r| r.checksums.get(model).map_or("-".to_owned(), |c| short(c))),
            );
            lines.push(line);
        }
        aligned(out, &lines, 1);
        for m in &self.mismatches {
            let each: Vec<String> = m
                .checksums
                .iter()
                .map(|(backend, c)| format!("{backend} {}", c.as_deref().unwrap_or("(none)")))
                .collect();
            let _ = writeln!(
                out,
                "MISMATCH at {}: {}: {}",
                show_size(m.size),
                m.model,
                each.join(", ")
            );
        }
    }
}

/// The first [`SHORT`] hex digits of a `sha256:…` checksum.
fn short(checksum: &str) -> String {
    let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
    hex.chars().take(SHORT).collect()
}
