//! A rewriting HTTP proxy in front of moto, for the few states moto cannot produce.
//!
//! Some AWS states are out of moto's reach — a snapshot never carries the `KmsKeyId` of the
//! customer-managed key its volume was encrypted with, and every KMS key is
//! `KeyManager=CUSTOMER`, even `alias/aws/ebs`. A test that must drive vigil down such a branch
//! points the SDK at a [`RewriteProxy`]: every request goes on to moto unchanged, and the
//! test's `rewrite` function may edit a reply's body before the SDK reads it. Everything else
//! (the calls vigil makes next, the state the test reads back) is moto's own.
//!
//! Written on hyper (already in the SDK's dependency tree) rather than a proxy crate: the
//! proxies on crates.io forward bytes and cannot edit a reply body, which is the whole point.
//!
//! ```no_run
//! use vigil_testkit::{MotoServer, RewriteProxy};
//! let moto = MotoServer::start().unwrap();
//! let proxy = RewriteProxy::start(&moto.endpoint(), |exchange, body| {
//!     if exchange.action() == Some("DescribeSnapshots") {
//!         // ...edit the XML...
//!     }
//!     body
//! })
//! .unwrap();
//! println!("point the SDK at {}", proxy.endpoint());
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::oneshot;

/// One request as the rewrite function sees it.
#[derive(Debug)]
pub struct Exchange {
    /// `POST`, `GET`...
    pub method: String,
    /// Path and query of the request.
    pub path: String,
    /// `X-Amz-Target` (JSON protocols: `TrentService.DescribeKey`), when present.
    pub target: Option<String>,
    /// The request body as sent by the SDK.
    pub request_body: Vec<u8>,
    /// The upstream's status code.
    pub status: u16,
}

impl Exchange {
    /// The operation: the `Action=` of a query-protocol form body (EC2, IAM, STS...), or the
    /// part after the dot of `X-Amz-Target` (KMS, Config...).
    pub fn action(&self) -> Option<&str> {
        if let Some(target) = &self.target {
            return target.rsplit('.').next();
        }
        let body = std::str::from_utf8(&self.request_body).ok()?;
        body.split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
    }
}

type RewriteFn = dyn Fn(&Exchange, Vec<u8>) -> Vec<u8> + Send + Sync;

/// The proxy: a local port forwarding to `upstream`; stopped when dropped.
pub struct RewriteProxy {
    endpoint: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RewriteProxy {
    /// Starts a proxy on a free local port in front of `upstream` (`http://127.0.0.1:PORT`).
    /// `rewrite` receives each exchange and the upstream reply body, and returns the body the
    /// client gets (`Content-Length` is recomputed).
    pub fn start(
        upstream: &str,
        rewrite: impl Fn(&Exchange, Vec<u8>) -> Vec<u8> + Send + Sync + 'static,
    ) -> Result<RewriteProxy, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("proxy: cannot bind a local port: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("proxy: {e}"))?;
        let endpoint = format!(
            "http://{}",
            listener.local_addr().map_err(|e| format!("proxy: {e}"))?
        );
        let upstream = upstream.trim_end_matches('/').to_string();
        let rewrite: Arc<RewriteFn> = Arc::new(rewrite);
        let (stop, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("proxy: tokio runtime: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("vigil-rewrite-proxy".into())
            .spawn(move || runtime.block_on(serve(listener, upstream, rewrite, stopped)))
            .map_err(|e| format!("proxy: thread: {e}"))?;
        Ok(RewriteProxy {
            endpoint,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, for the SDK's endpoint override.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
}

impl Drop for RewriteProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    upstream: String,
    rewrite: Arc<RewriteFn>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let (client, upstream, rewrite) = (client.clone(), upstream.clone(), rewrite.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                forward(request, client.clone(), upstream.clone(), rewrite.clone())
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Sends `request` on to the upstream and passes the reply through `rewrite`; a failure
/// becomes a 502 whose body says why (the SDK then reports it in the test's failure).
async fn forward(
    request: Request<Incoming>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
    rewrite: Arc<RewriteFn>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(
        match relay(request, &client, &upstream, rewrite.as_ref()).await {
            Ok(response) => response,
            Err(reason) => {
                let mut response = Response::new(Full::new(Bytes::from(reason)));
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                response
            }
        },
    )
}

async fn relay(
    request: Request<Incoming>,
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    rewrite: &RewriteFn,
) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = request.into_parts();
    let request_body = body
        .collect()
        .await
        .map_err(|e| format!("proxy: reading the request: {e}"))?
        .to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut out = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        out = out.header(name, value);
    }
    let out = out
        .body(Full::new(request_body.clone()))
        .map_err(|e| format!("proxy: {e}"))?;
    let reply = client
        .request(out)
        .await
        .map_err(|e| format!("proxy: upstream {upstream}: {e}"))?;
    let (mut reply_parts, reply_body) = reply.into_parts();
    let reply_body = reply_body
        .collect()
        .await
        .map_err(|e| format!("proxy: reading the reply: {e}"))?
        .to_bytes();
    let exchange = Exchange {
        method: parts.method.to_string(),
        path,
        target: parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        request_body: request_body.to_vec(),
        status: reply_parts.status.as_u16(),
    };
    let body = rewrite(&exchange, reply_body.to_vec());
    reply_parts.headers.remove(hyper::header::CONTENT_LENGTH);
    reply_parts.headers.remove(hyper::header::TRANSFER_ENCODING);
    Ok(Response::from_parts(
        reply_parts,
        Full::new(Bytes::from(body)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_comes_from_the_form_body_or_the_target_header() {
        let mut exchange = Exchange {
            method: "POST".into(),
            path: "/".into(),
            target: None,
            request_body: b"Action=DescribeSnapshots&Version=2016-11-15&SnapshotId.1=snap-1"
                .to_vec(),
            status: 200,
        };
        assert_eq!(exchange.action(), Some("DescribeSnapshots"));
        exchange.target = Some("TrentService.DescribeKey".into());
        assert_eq!(exchange.action(), Some("DescribeKey"));
        exchange.target = None;
        exchange.request_body = b"{\"KeyId\":\"k\"}".to_vec();
        assert_eq!(exchange.action(), None);
    }

    /// A one-shot upstream that answers every request with `body`, on its own thread.
    fn upstream(body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                let mut stream = stream.unwrap();
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        format!("http://{address}")
    }

    #[test]
    fn a_reply_body_is_rewritten_and_its_length_recomputed() {
        use std::io::{Read, Write};
        let upstream = upstream("<encrypted>true</encrypted>");
        let proxy = RewriteProxy::start(&upstream, |exchange, body| {
            if exchange.action() != Some("DescribeSnapshots") {
                return body;
            }
            String::from_utf8(body)
                .unwrap()
                .replace("</encrypted>", "</encrypted><kmsKeyId>key-1</kmsKeyId>")
                .into_bytes()
        })
        .unwrap();
        let address = proxy.endpoint().trim_start_matches("http://").to_string();
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let form = "Action=DescribeSnapshots&Version=2016-11-15";
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: ec2\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let expected = "<encrypted>true</encrypted><kmsKeyId>key-1</kmsKeyId>";
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(
            reply
                .to_ascii_lowercase()
                .contains(&format!("content-length: {}", expected.len())),
            "{reply}"
        );
        assert!(reply.ends_with(expected), "{reply}");
    }
}
