//! The HTTP listener of `--metrics-addr`, on a thread of its own: `GET /metrics` (the
//! OpenMetrics text Prometheus scrapes) and `GET /healthz` (200 `ok`, or 503 and the
//! reason on one line); anything else is 404.

use std::net::SocketAddr;

use super::{Metrics, Verdict};

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on --metrics-addr {addr}: {reason}")]
pub struct ListenError {
    /// The address asked for.
    pub addr: String,
    /// What the system said.
    pub reason: String,
}

/// Listens on `addr` (`HOST:PORT`; port 0 picks a free one) and answers requests from
/// `metrics` on a thread of its own for the rest of the process; returns the address
/// bound.
pub fn serve(metrics: &'static Metrics, addr: &str) -> Result<SocketAddr, ListenError> {
    let refused = |reason: String| ListenError {
        addr: addr.to_owned(),
        reason,
    };
    let server = tiny_http::Server::http(addr).map_err(|error| refused(error.to_string()))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| refused("not an IP address".to_owned()))?;
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let response = answer(metrics, request.method(), request.url());
            // A client that hung up is no concern of the process's.
            let _ = request.respond(response);
        }
    });
    Ok(bound)
}

type Response = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn answer(metrics: &Metrics, method: &tiny_http::Method, url: &str) -> Response {
    let path = url.split('?').next().unwrap_or(url);
    if *method != tiny_http::Method::Get && *method != tiny_http::Method::Head {
        return text(405, "only GET and HEAD are served\n".to_owned());
    }
    match path {
        "/metrics" => text(200, metrics.encode()).with_header(header(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )),
        "/healthz" => match metrics.verdict() {
            Verdict::Healthy => text(200, "ok\n".to_owned()),
            Verdict::Unhealthy(reason) => text(503, format!("{reason}\n")),
        },
        _ => text(404, "not found: try /metrics or /healthz\n".to_owned()),
    }
}

fn text(status: u16, body: String) -> Response {
    tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header("text/plain; charset=utf-8"))
}

fn header(content_type: &str) -> tiny_http::Header {
    // Both are constant ASCII text.
    tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes())
        .expect("an ASCII header")
}
