//! Making one API call: under the concurrency limit, counted, and with its error turned into
//! the `service:Operation` / code / message triple the snapshot keeps.
//!
//! Throttling and transient errors are retried with exponential backoff and jitter by the
//! SDK's standard retry mode, configured once in [`vigil_aws::AwsContext`]; an error that
//! reaches this module has used up its attempts (or is not retryable) and is recorded.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::{mpsc, Semaphore};
use vigil_aws::error_chain;
use vigil_posture::Collected;

use crate::ProgressEvent;

/// A page cap per paginated call: an emulator or proxy that hands back the same token
/// forever must not hang the scan. Real listings stay far below it (1,000 pages of 1,000).
const MAX_PAGES: usize = 1_000;

/// Error answers that mean "not configured" for one operation: data, not failures, so they
/// are not counted in `api_errors` (the collectors turn them into `Ok(None)` with
/// [`optional`]).
const ANSWERS: &[(&str, &str)] = &[
    ("GetBucketPolicy", "NoSuchBucketPolicy"),
    ("GetBucketPolicyStatus", "NoSuchBucketPolicy"),
    (
        "GetPublicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    (
        "GetBucketEncryption",
        "ServerSideEncryptionConfigurationNotFoundError",
    ),
    (
        "GetObjectLockConfiguration",
        "ObjectLockConfigurationNotFoundError",
    ),
    ("GetAccountPasswordPolicy", "NoSuchEntity"),
    ("GetAlternateContact", "ResourceNotFoundException"),
    ("DescribeOrganization", "AWSOrganizationsNotInUseException"),
    ("DescribeHub", "InvalidAccessException"),
    ("GetPolicy", "ResourceNotFoundException"),
];

/// A failed call, as the snapshot records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallError {
    /// `service:Operation`.
    pub call: String,
    /// The AWS error code, or the transport class (`DispatchFailure`, `Timeout`, …).
    pub code: String,
    /// The message, with the whole cause chain for transport errors.
    pub message: String,
}

impl CallError {
    pub(crate) fn new(call: &str, code: &str, message: impl Into<String>) -> Self {
        CallError {
            call: call.to_string(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// The same failure, recorded against an item that needed the call.
    pub(crate) fn collected<T>(&self) -> Collected<T> {
        Collected::Error {
            call: self.call.clone(),
            code: self.code.clone(),
            message: self.message.clone(),
        }
    }

    /// True when the AWS error code is one of `codes`.
    pub(crate) fn is(&self, codes: &[&str]) -> bool {
        codes.contains(&self.code.as_str())
    }
}

/// Turns a call's outcome into a snapshot value.
pub(crate) fn collected<T>(result: Result<T, CallError>) -> Collected<T> {
    match result {
        Ok(value) => Collected::Ok(value),
        Err(err) => err.collected(),
    }
}

/// "The thing is not configured" answers are data: `codes` map to `Ok(None)`.
pub(crate) fn optional<T>(result: Result<T, CallError>, codes: &[&str]) -> Collected<Option<T>> {
    match result {
        Ok(value) => Collected::Ok(Some(value)),
        Err(err) if err.is(codes) => Collected::Ok(None),
        Err(err) => err.collected(),
    }
}

/// Maps an SDK error: the service's error code when the service answered, otherwise the
/// class of transport failure.
pub(crate) fn call_error<E, R>(
    call: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let class = match err {
        SdkError::ServiceError(_) => None,
        SdkError::ConstructionFailure(_) => Some("ConstructionFailure"),
        SdkError::TimeoutError(_) => Some("Timeout"),
        SdkError::DispatchFailure(_) => Some("DispatchFailure"),
        SdkError::ResponseError(_) => Some("ResponseError"),
        _ => Some("Unknown"),
    };
    let code = match (err.code(), class) {
        (Some(code), _) => code.to_string(),
        (None, Some(class)) => class.to_string(),
        (None, None) => "UnknownServiceError".to_string(),
    };
    let message = match err.message() {
        Some(message) if !message.is_empty() => message.to_string(),
        _ => error_chain(err),
    };
    CallError::new(call, &code, message)
}

/// Counters and limits shared by every collector of one inventory run.
#[derive(Clone)]
pub(crate) struct Recorder(Arc<RecorderInner>);

struct RecorderInner {
    limit: Semaphore,
    calls: AtomicU64,
    errors: AtomicU64,
    per_service: Mutex<BTreeMap<String, (u64, u64)>>,
    events: mpsc::UnboundedSender<ProgressEvent>,
}

impl Recorder {
    pub(crate) fn new(concurrency: usize, events: mpsc::UnboundedSender<ProgressEvent>) -> Self {
        Recorder(Arc::new(RecorderInner {
            limit: Semaphore::new(concurrency.max(1)),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            per_service: Mutex::new(BTreeMap::new()),
            events,
        }))
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        // The receiver lives as long as `collect`; a send after it returned is moot.
        let _ = self.0.events.send(event);
    }

    /// Counts one finished call of `service`.
    pub(crate) fn count(&self, service: &str, failed: bool) {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.0.errors.fetch_add(1, Ordering::Relaxed);
        }
        // A poisoned lock only means another collector panicked mid-update; the counts are
        // still the best we have.
        let mut map = self.0.per_service.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(service.to_string()).or_default();
        entry.0 += 1;
        if failed {
            entry.1 += 1;
        }
    }

    pub(crate) fn totals(&self) -> (u64, u64, BTreeMap<String, (u64, u64)>) {
        let map = self.0.per_service.lock().unwrap_or_else(|p| p.into_inner());
        (
            self.0.calls.load(Ordering::Relaxed),
            self.0.errors.load(Ordering::Relaxed),
            map.clone(),
        )
    }

    /// A group of calls to one service in one region of one account.
    pub(crate) fn group(&self, service: &'static str, account: &str, region: &str) -> Group {
        self.emit(ProgressEvent::GroupStarted {
            account: account.to_string(),
            region: region.to_string(),
            service,
        });
        Group {
            recorder: self.clone(),
            service,
            account: account.to_string(),
            region: region.to_string(),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

/// The calls of one service in one region of one account: the unit of progress reporting.
pub(crate) struct Group {
    recorder: Recorder,
    service: &'static str,
    account: String,
    region: String,
    calls: AtomicU64,
    errors: AtomicU64,
}

impl Group {
    fn count(&self, failed: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.recorder.count(self.service, failed);
    }

    /// The `service:Operation` name of an operation of this group's service.
    pub(crate) fn name(&self, operation: &str) -> String {
        format!("{}:{operation}", self.service)
    }

    /// Runs one request under the concurrency limit and counts it.
    pub(crate) async fn call<T, E, R>(
        &self,
        operation: &str,
        request: impl Future<Output = Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let result = {
            let _permit = self.recorder.0.limit.acquire().await;
            request.await
        };
        let result = result.map_err(|err| call_error(&self.name(operation), &err));
        let failed = match &result {
            Ok(_) => false,
            Err(err) => !ANSWERS.contains(&(operation, err.code.as_str())),
        };
        self.count(failed);
        result
    }

    /// Follows a paginator to its last page, each page under the limit and counted, and
    /// gathers the items `items` takes out of each page.
    pub(crate) async fn pages<P, E, R, I>(
        &self,
        operation: &str,
        mut stream: PaginationStream<
            Result<P, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
        >,
        mut items: impl FnMut(P) -> Vec<I>,
    ) -> Result<Vec<I>, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = {
                let _permit = self.recorder.0.limit.acquire().await;
                stream.next().await
            };
            match page {
                None => return Ok(out),
                Some(Ok(page)) => {
                    self.count(false);
                    out.extend(items(page));
                }
                Some(Err(err)) => {
                    self.count(true);
                    return Err(call_error(&self.name(operation), &err));
                }
            }
        }
        Err(CallError::new(
            &self.name(operation),
            "PaginationLimit",
            format!("stopped after {MAX_PAGES} pages: the pagination token never ran out"),
        ))
    }
}

impl Group {
    /// Follows a `NextToken` by hand, for operations the SDK has no paginator for: `request`
    /// sends one page for a token, `token` reads the next token from a page.
    pub(crate) async fn token_pages<P, E, R, Fut>(
        &self,
        operation: &str,
        mut request: impl FnMut(Option<String>) -> Fut,
        token: impl Fn(&P) -> Option<String>,
    ) -> Result<Vec<P>, CallError>
    where
        Fut: Future<Output = Result<P, aws_smithy_runtime_api::client::result::SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let mut pages = Vec::new();
        let mut next = None;
        for _ in 0..MAX_PAGES {
            let page = self.call(operation, request(next.take())).await?;
            next = token(&page).filter(|t| !t.is_empty());
            pages.push(page);
            if next.is_none() {
                return Ok(pages);
            }
        }
        Err(CallError::new(
            &self.name(operation),
            "PaginationLimit",
            format!("stopped after {MAX_PAGES} pages: the pagination token never ran out"),
        ))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.recorder.emit(ProgressEvent::GroupFinished {
            account: std::mem::take(&mut self.account),
            region: std::mem::take(&mut self.region),
            service: self.service,
            calls: self.calls.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        });
    }
}
