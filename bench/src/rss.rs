//! Peak resident memory of this process, per phase: `VmHWM` from `/proc/self/status`,
//! reset before a phase by writing `5` to `/proc/self/clear_refs` (Linux 4.0 and later).

/// Where a phase's peak comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The peak was reset before the phase: it is the phase's own.
    Phase,
    /// The reset failed: the peak is the process's since it started.
    Process,
}

impl Scope {
    /// `phase` or `process`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scope::Phase => "phase",
            Scope::Process => "process",
        }
    }
}

/// Resets the peak to the current resident size; says whether that worked.
pub(crate) fn reset_peak() -> Scope {
    match std::fs::write("/proc/self/clear_refs", "5") {
        Ok(()) => Scope::Phase,
        Err(_) => Scope::Process,
    }
}

/// The peak resident size in KiB (`VmHWM`), if the platform reports it.
pub(crate) fn peak_kib() -> Option<u64> {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// The current resident size in KiB (`VmRSS`).
pub(crate) fn current_kib() -> Option<u64> {
    status_field("VmRSS:")
}

/// Memory of one phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// Resident size when the phase started, KiB.
    pub(crate) start: Option<u64>,
    /// Peak resident size during the phase, KiB.
    pub(crate) peak: Option<u64>,
    /// Whether `peak` is the phase's own.
    pub(crate) scope: Scope,
}

/// Runs `phase` with the peak reset first; returns its result and its memory.
pub(crate) fn measure<T>(phase: impl FnOnce() -> T) -> (T, Usage) {
    let scope = reset_peak();
    let start = current_kib();
    let out = phase();
    let peak = peak_kib();
    (out, Usage { start, peak, scope })
}

/// `123.4 MiB`, or `n/a`.
pub(crate) fn show(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

/// The peak and its growth over the phase's start: `123.4 MiB (+5.6)`.
pub(crate) fn show_growth(peak: Option<u64>, start: Option<u64>) -> String {
    match (peak, start) {
        (Some(peak), Some(start)) => format!(
            "{} (+{:.1})",
            show(Some(peak)),
            peak.saturating_sub(start) as f64 / 1024.0
        ),
        (peak, _) => show(peak),
    }
}
