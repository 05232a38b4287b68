//! The API: its method table, parameters, and where each call goes.
//!
//! Reference: `../shared/reference/pveproxy-pvedaemon.md` §5 (routing and proxying) and §7
//! (authentication).
//!
//! - [`methods`]: every method with Proxmox's declarations (`protected`, `proxyto`,
//!   `allowtoken`, permission, parameters).
//! - [`params`]: the query and body merged into parameters, and encoded again for forwarding.
//! - [`schema`]: parameter verification (400 with the `errors` map).
//! - [`decide`]: the pure routing decision, in Proxmox's order.

pub mod decide;
pub mod methods;
pub mod params;
pub mod schema;

pub use decide::{Call, Caller, Decision, PermissionCheck, Role, decide};
pub use methods::{ApiMethod, Handler, METHODS, Permission, find, needs_auth};
pub use params::{BodyEncoding, Params};
