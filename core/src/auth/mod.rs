//! Authentication as Proxmox VE does it in the HTTP layer: RSA-signed tickets, CSRF prevention
//! tokens, and finding the credentials in a request's headers.
//!
//! Everything here is wire-compatible with Proxmox VE (pve-common `PVE/Ticket.pm`,
//! pve-access-control `PVE/AccessControl.pm`, pve-http-server `PVE/APIServer/Formatter.pm`), so a
//! corral node and a Proxmox node in one cluster accept each other's tickets and tokens.
//!
//! Like the rest of core this reads no file and no clock: key material comes in as PEM bytes
//! with the key file's modification time, and `now` is an argument. `corral_io::authkey` reads
//! and writes the key files.
//!
//! - [`ticket`]: `PVE:<userid>:<time>::<signature>` tickets, signing and verifying, with the
//!   validity window and its narrowing around key rotation ([`keyage`]).
//! - [`keys`]: the RSA key pair behind tickets (`authkey.key`, `authkey.pub`, `authkey.pub.old`).
//! - [`csrf`]: `CSRFPreventionToken`, derived from `/etc/pve/pve-www.key`.
//! - [`credentials`]: the `PVEAuthCookie` ticket or `PVEAPIToken` a request carries.
//!
//! Error messages say precisely why a credential was refused, for logs. What a client sees
//! stays Proxmox's generic 401 ("authentication failure", "invalid csrf token"): the caller
//! maps every error to that, so the reason never helps an attacker.

pub mod credentials;
pub mod csrf;
pub mod keyage;
pub mod keys;
pub mod ticket;

/// Seconds a ticket and a CSRF token stay valid after they are issued (`$ticket_lifetime`).
pub const TICKET_LIFETIME: i64 = 7200;

/// Seconds of clock difference between nodes tolerated in both directions
/// (`$auth_graceperiod`): a ticket issued up to this far in the future is accepted.
pub const AUTH_GRACE_PERIOD: i64 = 300;

/// Seconds after which the ticket key pair is rotated (`$authkey_lifetime`, 24 h).
pub const AUTHKEY_LIFETIME: i64 = 86_400;

/// A ticket's or CSRF token's time as written (`%08X`): exactly 8 digits `0-9A-F`.
pub(crate) fn parse_hex_time(text: &str) -> Option<u32> {
    let valid = text.len() == 8
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
    if !valid {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}
