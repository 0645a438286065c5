//! Log output: human-readable text or one JSON object per line
//! (`OSP_LOG_FORMAT`), filtered by `OSP_LOG`.
//!
//! Each request is logged once when answered, inside a span carrying its
//! method, path and `request_id` (the `x-request-id` header, set by the
//! gateway when the client sent none), so every line about a request can be
//! found by that id. Query strings and headers are never logged.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

use crate::config::LogFormat;

/// A subscriber writing to `writer` in `format`, filtered by `filter`
/// (EnvFilter syntax; `info` when it does not parse).
pub fn subscriber<W>(
    filter: &str,
    format: LogFormat,
    ansi: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        // The current span holds the request's fields (request_id, method, path).
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// Sends the process's logs to standard output (colours only on a terminal).
pub fn init(filter: &str, format: LogFormat) {
    let ansi = std::io::stdout().is_terminal();
    let _ =
        tracing::subscriber::set_global_default(subscriber(filter, format, ansi, std::io::stdout));
}

#[cfg(test)]
mod tests {
    use std::{
        io,
        sync::{Arc, Mutex},
    };

    use axum::{body::Body, http::Request};
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;
    use crate::{
        config::{Config, sqlite_url},
        startup::{Application, router},
    };

    /// Collects log output in memory.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// Sends one request through a real gateway's router: the log of one request sent with `x-request-id: id`, and the id the
    /// gateway answered with.
    fn log_of_one_request(format: LogFormat, id: &str) -> (String, String) {
        let capture = Capture::default();
        let mut answered = String::new();
        let subscriber = subscriber("info", format, false, capture.clone());
        let file =
            std::env::temp_dir().join(format!("osp-log-test-{}.db", uuid::Uuid::new_v4().simple()));
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut config = Config::new(sqlite_url(&file));
                config.listen = ([127, 0, 0, 1], 0).into();
                config.admin_password = Some(secrecy::SecretString::from("admin-password-1"));
                let app = Application::build(config).await.expect("gateway builds");
                let request = Request::get("/healthz")
                    .header("x-request-id", id)
                    .body(Body::empty())
                    .expect("request");
                let response = router(app.state().clone())
                    .oneshot(request)
                    .await
                    .expect("answered");
                assert_eq!(response.status(), 200);
                answered = response.headers()["x-request-id"]
                    .to_str()
                    .expect("text")
                    .to_owned();
            });
        });
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        let bytes = capture.0.lock().expect("log").clone();
        (String::from_utf8(bytes).expect("utf-8 log"), answered)
    }

    #[test]
    fn json_request_log_lines_carry_the_request_id() {
        let (log, answered) = log_of_one_request(LogFormat::Json, "req-7f3a");
        assert_eq!(answered, "req-7f3a");
        let line: Value = log
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["fields"]["message"] == "finished processing request")
            .unwrap_or_else(|| panic!("no request line in:\n{log}"));
        assert_eq!(line["span"]["request_id"], "req-7f3a", "{line}");
        assert_eq!(line["span"]["path"], "/healthz", "{line}");
        assert_eq!(line["level"], "INFO");
    }

    #[test]
    fn text_request_log_lines_carry_the_request_id() {
        let (log, _) = log_of_one_request(LogFormat::Text, "req-7f3a");
        let line = log
            .lines()
            .find(|line| line.contains("finished processing request"))
            .unwrap_or_else(|| panic!("no request line in:\n{log}"));
        assert!(line.contains(r#"request_id="req-7f3a""#), "{line}");
    }

    #[test]
    fn a_client_request_id_that_is_not_a_plain_token_is_replaced() {
        let forged = r#"x" path=/osp/api/users status=200 y="#;
        let long = "a".repeat(65);
        for sent in [forged, long.as_str(), "ümlaut"] {
            let (log, answered) = log_of_one_request(LogFormat::Text, sent);
            assert_ne!(answered, sent);
            assert_eq!(answered.len(), 36, "a generated id: {answered}");
            assert!(!log.contains(sent), "{log}");
            assert!(log.contains(&format!("request_id=\"{answered}\"")), "{log}");
        }
        let (_, answered) = log_of_one_request(LogFormat::Text, &"a".repeat(64));
        assert_eq!(answered, "a".repeat(64), "64 plain characters are kept");
    }
}
