//! What `follow` and `worker` share as long-running services: `--metrics-addr` (the
//! Prometheus endpoint and health probe of [`crate::metrics`]) and the lines they say to
//! the operator on stderr (or as JSON log events under `--log-format json`).

use std::time::Duration;

use super::context::Context;
use super::CliError;
use crate::metrics::{self, BuildInfo, Metrics};
use crate::registry::Model;
use crate::stop::StopFlag;
use crate::store::DatabaseUrl;

/// `--metrics-addr`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MetricsArgs {
    /// Serve Prometheus metrics at http://HOST:PORT/metrics and a health probe at
    /// /healthz (200 while following, 503 with the reason otherwise); port 0 picks a free
    /// port, and the address bound is printed on stderr.
    #[arg(long, value_name = "HOST:PORT")]
    metrics_addr: Option<String>,
}

/// The metrics of a running service; dropping it marks the process as no longer
/// following (unhealthy) and stops the sampler.
pub(crate) struct Service {
    metrics: &'static Metrics,
    sampler: StopFlag,
}

impl MetricsArgs {
    /// Starts recording and serving metrics if `--metrics-addr` was given: `models` are
    /// the ones replayed, `quiet_for` the longest a healthy process goes without a flush
    /// or heartbeat.
    pub(crate) fn start(
        &self,
        cx: &Context<'_>,
        url: &DatabaseUrl,
        models: &[&'static dyn Model],
        quiet_for: Duration,
    ) -> Result<Option<Service>, CliError> {
        let Some(addr) = &self.metrics_addr else {
            return Ok(None);
        };
        let build = BuildInfo {
            binary: cx.app.name.to_owned(),
            version: cx.app.version.to_owned(),
            models: models
                .iter()
                .map(|m| {
                    let c = m.contract();
                    (c.name.to_owned(), c.version, c.fingerprint.to_string())
                })
                .collect(),
        };
        // Health allows for a quiet log: a heartbeat every poll, a flush every interval.
        let stale_after = (quiet_for * 3).max(Duration::from_secs(10));
        let metrics = metrics::install(&build, stale_after);
        let bound = metrics::server::serve(metrics, addr)?;
        say_to_operator(&format!("metrics: listening on http://{bound}/metrics"));
        let sampler = StopFlag::new();
        metrics::sampler::spawn(metrics, url.clone(), sampler.clone());
        metrics.set_following(true);
        Ok(Some(Service { metrics, sampler }))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.metrics.set_following(false);
        self.sampler.set();
    }
}

/// One line for the operator of a long-running command: on stderr, or a JSON log event
/// under `--log-format json`.
pub(crate) fn say_to_operator(line: &str) {
    if super::log_format() == super::LogFormat::Json {
        tracing::info!(target: "replay", "{line}");
    } else {
        eprintln!("{line}");
    }
}
