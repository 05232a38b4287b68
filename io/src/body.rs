//! Reading a whole HTTP body, bounded in size and in the silence before each chunk: request
//! bodies in [`crate::proxy`], pvedaemon's replies in [`crate::forward`].

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Why a body was not read whole.
#[derive(Debug)]
pub(crate) enum Incomplete {
    /// More than the bound arrived.
    TooLarge,
    /// No chunk arrived within the timeout.
    Stalled,
    /// The connection failed mid-body.
    Transport(hyper::Error),
}

/// The body, each chunk within `chunk_timeout`, at most `len_max` bytes in all.
pub(crate) async fn collect(
    mut body: Incoming,
    chunk_timeout: Duration,
    len_max: usize,
) -> Result<Vec<u8>, Incomplete> {
    let mut collected = Vec::new();
    loop {
        let frame = match tokio::time::timeout(chunk_timeout, body.frame()).await {
            Err(_) => return Err(Incomplete::Stalled),
            Ok(None) => return Ok(collected),
            Ok(Some(Err(e))) => return Err(Incomplete::Transport(e)),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > len_max {
                return Err(Incomplete::TooLarge);
            }
            collected.extend_from_slice(&data);
        }
    }
}
