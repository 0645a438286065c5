//! The gateway's HTTP client towards the OpenID Provider (discovery, its
//! keys, the code exchange): HTTPS with the system's roots (plain HTTP is
//! refused by the configuration except on a loopback address), no redirects
//! followed, every exchange bounded in time and size, so a slow or hostile
//! provider cannot hold a sign-in or the gateway's memory.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// The longest the provider may take to answer one request.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from the provider.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why a request to the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// It could not be sent or answered.
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// No answer within [`TIMEOUT`].
    #[error("the identity provider did not answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    /// The answer is larger than [`MAX_ANSWER_BYTES`].
    #[error("the identity provider's answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

/// A client for the provider's endpoints (cheap to clone).
#[derive(Clone)]
pub struct ProviderHttp {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderHttp {
    /// A client trusting the system's root certificates.
    pub fn new() -> std::io::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(ProviderHttp { client })
    }

    /// Sends one request and reads its whole answer (what `openidconnect`
    /// asks of an HTTP client).
    pub async fn send(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Unreachable(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| match e.downcast::<http_body_util::LengthLimitError>() {
                    Ok(_) => HttpError::TooLarge,
                    Err(e) => HttpError::Unreachable(e.to_string()),
                })?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| HttpError::Timeout)?
    }
}

/// What `openidconnect` calls to reach the provider.
impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
