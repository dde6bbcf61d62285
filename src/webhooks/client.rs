//! The HTTP client deliveries are sent with: HTTP/1.1 over plain TCP or rustls (on ring, with the
//! webpki roots built in, so nothing is read from the machine), redirects never followed (a
//! receiver that moved answers 3xx, which is a failed attempt the admin sees), and at most a
//! few hundred bytes of an answer read.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::webhooks::sign;

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// How much of an answer is read, for the admin page's error text.
const ANSWER_MAX: usize = 512;

/// A client sharing its connections between deliveries.
pub fn new_client(timeout: Duration) -> HttpsClient {
    let mut http = HttpConnector::new();
    // https:// URLs go through the TLS layer; the connector must let them past.
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    // Only ring is built into rustls here, so its default provider is unambiguous.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .build(https)
}

/// A delivery as sent.
pub struct Request<'a> {
    pub url: &'a str,
    pub delivery_id: &'a str,
    pub event_type: &'a str,
    pub secret: &'a str,
    pub body: &'a str,
    /// When it is signed (unix seconds).
    pub t: i64,
}

/// The receiver's answer: its status and the first words of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: u16,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the request could not be made: {0}")]
    Request(String),
    #[error("{0}")]
    Http(String),
}

/// Posts one delivery, signed; the whole exchange (connecting, sending, reading the start of
/// the answer) is bounded by `timeout`.
pub async fn post(client: &HttpsClient, r: &Request<'_>, timeout: Duration) -> Result<Answer, SendError> {
    let request = hyper::Request::post(r.url)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, concat!("unionflow/", env!("CARGO_PKG_VERSION")))
        .header("Unionflow-Delivery", r.delivery_id)
        .header("Unionflow-Event", r.event_type)
        .header(sign::HEADER, sign::signature(r.secret, r.t, r.body.as_bytes()))
        .body(Full::new(Bytes::from(r.body.to_owned())))
        .map_err(|e| SendError::Request(e.to_string()))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| SendError::Http(causes(&e)))?;
        let code = response.status().as_u16();
        let mut body = response.into_body();
        let mut read = Vec::new();
        // Only the start of the answer: a receiver that streams forever costs nothing more.
        while read.len() < ANSWER_MAX {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        read.extend_from_slice(&data[..data.len().min(ANSWER_MAX - read.len())]);
                    }
                }
                // A body cut short after a status was sent: the status stands.
                Some(Err(_)) | None => break,
            }
        }
        Ok(Answer { code, text: String::from_utf8_lossy(&read).into_owned() })
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| SendError::Timeout(timeout))?
}

/// An error with its causes, the way an admin can act on it ("connection refused").
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
