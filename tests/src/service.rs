//! A `replay` service the test watches over HTTP: started with `--metrics-addr
//! 127.0.0.1:0`, its bound address read from the line it prints on stderr, and its
//! `/metrics` and `/healthz` fetched with a plain HTTP/1.0 GET.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::child::wait_until;

/// A running `replay` with a metrics endpoint.
pub struct Service {
    /// The process.
    pub child: Child,
    /// Where it serves `/metrics` and `/healthz`.
    pub addr: SocketAddr,
    /// Its stderr so far.
    pub stderr: Arc<Mutex<String>>,
}

impl Service {
    /// Starts `bin --database-url url ARGS --metrics-addr 127.0.0.1:0` and waits for the
    /// line naming the address it listens on.
    pub fn start(bin: &Path, url: &str, args: &[&str]) -> Service {
        let mut child = Command::new(bin)
            .args(["--database-url", url, "--quiet"])
            .args(args)
            .args(["--metrics-addr", "127.0.0.1:0"])
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the replay binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap_or_else(|p| p.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut addr = None;
        wait_until("the service prints its metrics address", || {
            let text = stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
            addr = bound_address(&text);
            assert!(
                addr.is_some() || child.try_wait().expect("try_wait").is_none(),
                "the service ended before listening: {text}"
            );
            addr.is_some()
        });
        Service {
            child,
            addr: addr.expect("an address"),
            stderr,
        }
    }

    /// `GET path`: the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        if TcpStream::connect(self.addr).is_err() {
            panic!(
                "the service no longer listens on {}; its stderr:\n{}",
                self.addr,
                self.stderr()
            );
        }
        get(self.addr, path)
    }

    /// The metrics scraped now, by series (`name{labels}` as printed).
    pub fn scrape(&self) -> BTreeMap<String, f64> {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "GET /metrics: {body}");
        samples(&body)
    }

    /// What the service printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address of the line `metrics: listening on http://ADDR/metrics`.
pub fn bound_address(stderr: &str) -> Option<SocketAddr> {
    stderr.lines().find_map(|line| {
        let rest = line.strip_prefix("metrics: listening on http://")?;
        rest.strip_suffix("/metrics")?.parse().ok()
    })
}

/// A plain HTTP/1.0 `GET path` to `addr`: the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {response:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, body.to_owned())
}

/// The samples of a Prometheus text exposition: `name{labels}` (as printed) → value.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The samples of metric `name` (exactly), by their labels' text.
pub fn series<'s>(samples: &'s BTreeMap<String, f64>, name: &str) -> Vec<(&'s str, f64)> {
    samples
        .iter()
        .filter_map(|(series, value)| {
            let labels = series.strip_prefix(name)?;
            (labels.is_empty() || labels.starts_with('{')).then_some((labels, *value))
        })
        .collect()
}
