//! Support for the workspace's tests (feature `testing`; always in io's own tests): what a
//! daemon logs, as a user reads it in the journal, and a forged ticket.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// What is logged (through `tracing`, without time stamps or colours) while `work` runs on this
/// thread, with `work`'s result.
pub fn logged<T>(work: impl FnOnce() -> T) -> (T, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let result = tracing::subscriber::with_default(subscriber, work);
    let bytes = captured.0.lock().map(|b| b.clone()).unwrap_or_default();
    (result, String::from_utf8_lossy(&bytes).into_owned())
}

/// `ticket` with one bit of its signature flipped: the lowest bit of the base64 digit in the
/// middle of the signature (`PVE:<user>:<time>::<signature>`).
pub fn flip_signature_bit(ticket: &str) -> String {
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (data, signature) = ticket
        .split_once("::")
        .expect("PVE:<user>:<time>::<signature>");
    let mut signature = signature.as_bytes().to_vec();
    let middle = signature.len() / 2;
    let digit = BASE64
        .iter()
        .position(|&c| c == signature[middle])
        .expect("a base64 digit");
    signature[middle] = BASE64[digit ^ 1];
    let signature = String::from_utf8(signature).expect("still ASCII");
    format!("{data}::{signature}")
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut captured) = self.0.lock() {
            captured.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
