//! What io's integration tests share: the daemons' runtime, and how a test reads a [`Reply`].
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::future::Future;

use corral_core::http::Reply;

/// Runs `test` on a single-threaded runtime with a local task set, as the daemons run.
pub fn run<F: Future>(test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    tokio::task::LocalSet::new().block_on(&runtime, test)
}

/// The reply's status code and reason phrase.
pub fn status(reply: &Reply) -> (u16, &str) {
    (reply.status.as_u16(), reply.reason.as_str())
}

/// The reply's header `name` (lowercase), if it has one that is text.
pub fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| n.as_str() == name)
        .and_then(|(_, v)| v.to_str().ok())
}
