//! How a ticket key's age narrows the tickets it accepts, and when the key is rotated
//! (pve-access-control `$get_ticket_age_range` and `check_authkey`).
//!
//! A ticket is valid while `min < age < max`, normally `(-300, 7200)`. Around a rotation:
//! - The current key accepts no ticket older than itself (plus the grace period): `max` drops
//!   to `key_age + 300` while the key is younger than a ticket's lifetime.
//! - A current key more than 24 h old should have been rotated; in a quorate cluster tickets
//!   younger than its overdue time are refused (`min = key_age - 86400`).
//! - The old key (`authkey.pub.old`) accepts only tickets issued before the rotation:
//!   `min = key_age - 300`, where `key_age` is the old file's age, i.e. the time since the
//!   rotation wrote it.
//! - When `min` passes the ticket lifetime, the key accepts nothing at all.

use crate::auth::{AUTH_GRACE_PERIOD, AUTHKEY_LIFETIME, TICKET_LIFETIME};
use crate::time::UnixTime;

/// Whether this node is part of a quorate cluster (a node without a cluster is quorate).
///
/// Proxmox narrows the current key's window and rotates the key only with quorum: without
/// it, `/etc/pve` is read-only and no node can rotate, so an overdue key stays in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quorum {
    #[default]
    Quorate,
    NotQuorate,
}

/// Which of the two public keys a window is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// `authkey.pub`.
    Current,
    /// `authkey.pub.old`, left by the last rotation.
    Rotated,
}

/// The ticket ages (in seconds, `now - ticket time`) a key accepts: strictly between `min`
/// and `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeRange {
    pub min: i64,
    pub max: i64,
}

impl AgeRange {
    /// Proxmox's default window, before any key-age narrowing: `(-300, 7200)`.
    pub const DEFAULT: AgeRange = AgeRange {
        min: -AUTH_GRACE_PERIOD,
        max: TICKET_LIFETIME,
    };

    /// Whether a ticket of this age is inside the window; both ends are excluded.
    pub fn contains(self, age: i64) -> bool {
        self.min < age && age < self.max
    }
}

/// The window of a key written at `modified`, seen at `now`, or `None` when the key accepts
/// no ticket at all. A key file dated in the future is as old as it is far ahead (Proxmox's
/// `abs`): an old key stepped into the future must not accept tickets signed now.
pub fn age_range(
    now: UnixTime,
    modified: UnixTime,
    role: KeyRole,
    quorum: Quorum,
) -> Option<AgeRange> {
    let key_age = now.0.abs_diff(modified.0).try_into().unwrap_or(i64::MAX);
    let mut range = AgeRange::DEFAULT;
    match role {
        KeyRole::Rotated => range.min = key_age - AUTH_GRACE_PERIOD,
        KeyRole::Current => {
            if key_age > AUTHKEY_LIFETIME && quorum == Quorum::Quorate {
                range.min = key_age - AUTHKEY_LIFETIME;
            }
            if key_age < TICKET_LIFETIME {
                range.max = key_age + AUTH_GRACE_PERIOD;
            }
        }
    }
    (range.min <= TICKET_LIFETIME).then_some(range)
}

/// Why the key pair must be rotated before the next ticket is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationReason {
    /// There is no public key yet.
    Missing,
    /// The public key is 24 h old or older.
    Expired,
    /// The public key is dated more than 300 s in the future (a node's clock was wrong when it
    /// made the key), and no recent old key explains it.
    FromTheFuture,
}

/// Whether the key pair is due for rotation (Proxmox's `check_authkey`, which pvedaemon runs
/// before it issues a ticket). `current` and `old` are the modification times of
/// `authkey.pub` and `authkey.pub.old`, `None` when missing.
///
/// A key dated in the future is left alone when the old key is older than it by less than a
/// ticket's lifetime: then another node just rotated with a clock a little ahead, and rotating
/// again would invalidate the tickets it issued.
pub fn rotation_due(
    now: UnixTime,
    current: Option<UnixTime>,
    old: Option<UnixTime>,
    quorum: Quorum,
) -> Option<RotationReason> {
    if quorum == Quorum::NotQuorate {
        // /etc/pve is read-only: rotating is impossible anyway.
        return None;
    }
    let Some(current) = current else {
        return Some(RotationReason::Missing);
    };
    if now.0.saturating_sub(current.0) >= AUTHKEY_LIFETIME {
        return Some(RotationReason::Expired);
    }
    if current.0 > now.0.saturating_add(AUTH_GRACE_PERIOD) {
        let explained = old
            .is_some_and(|old| current >= old && current.0.saturating_sub(old.0) < TICKET_LIFETIME);
        return (!explained).then_some(RotationReason::FromTheFuture);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = UnixTime(1_795_478_400);

    fn range(key_age: i64, role: KeyRole, quorum: Quorum) -> Option<AgeRange> {
        age_range(NOW, UnixTime(NOW.0 - key_age), role, quorum)
    }

    #[test]
    fn a_current_key_between_two_and_twenty_four_hours_old_gives_the_default_window() {
        for key_age in [TICKET_LIFETIME, 10_000, AUTHKEY_LIFETIME] {
            assert_eq!(
                range(key_age, KeyRole::Current, Quorum::Quorate),
                Some(AgeRange::DEFAULT),
                "key age {key_age}"
            );
        }
    }

    #[test]
    fn a_young_current_key_accepts_no_ticket_much_older_than_itself() {
        assert_eq!(
            range(600, KeyRole::Current, Quorum::Quorate),
            Some(AgeRange {
                min: -300,
                max: 900
            })
        );
        assert_eq!(
            range(0, KeyRole::Current, Quorum::Quorate),
            Some(AgeRange {
                min: -300,
                max: 300
            })
        );
        assert_eq!(
            range(TICKET_LIFETIME - 1, KeyRole::Current, Quorum::Quorate),
            Some(AgeRange {
                min: -300,
                max: TICKET_LIFETIME + 299
            })
        );
    }

    /// Proxmox's `abs($now - $mtime)`: a file 5000 s ahead is as old as one 5000 s behind.
    #[test]
    fn a_key_file_dated_in_the_future_is_as_old_as_it_is_far_ahead() {
        for role in [KeyRole::Current, KeyRole::Rotated] {
            assert_eq!(
                range(-5000, role, Quorum::Quorate),
                range(5000, role, Quorum::Quorate),
                "{role:?}"
            );
        }
        // An old key stepped into the future accepts no ticket signed now.
        let old = range(-5000, KeyRole::Rotated, Quorum::Quorate).expect("a window");
        assert!(!old.contains(0), "{old:?}");
    }

    #[test]
    fn an_overdue_current_key_refuses_tickets_issued_after_it_should_have_been_rotated() {
        assert_eq!(
            range(AUTHKEY_LIFETIME + 1000, KeyRole::Current, Quorum::Quorate),
            Some(AgeRange {
                min: 1000,
                max: TICKET_LIFETIME
            })
        );
        // Without quorum nobody could rotate: the key stays fully usable.
        assert_eq!(
            range(
                AUTHKEY_LIFETIME + 1000,
                KeyRole::Current,
                Quorum::NotQuorate
            ),
            Some(AgeRange::DEFAULT)
        );
        // Overdue by more than a ticket's lifetime: nothing is valid any more.
        assert_eq!(
            range(
                AUTHKEY_LIFETIME + TICKET_LIFETIME,
                KeyRole::Current,
                Quorum::Quorate
            ),
            Some(AgeRange {
                min: TICKET_LIFETIME,
                max: TICKET_LIFETIME
            })
        );
        assert_eq!(
            range(
                AUTHKEY_LIFETIME + TICKET_LIFETIME + 1,
                KeyRole::Current,
                Quorum::Quorate
            ),
            None
        );
    }

    #[test]
    fn the_old_key_accepts_only_tickets_from_before_the_rotation() {
        // Rotated 1000 s ago: only tickets older than 700 s (issued before the rotation,
        // less the grace period).
        assert_eq!(
            range(1000, KeyRole::Rotated, Quorum::Quorate),
            Some(AgeRange {
                min: 700,
                max: TICKET_LIFETIME
            })
        );
        // Rotated more than a ticket's lifetime (plus grace) ago: useless.
        assert!(range(TICKET_LIFETIME + 300, KeyRole::Rotated, Quorum::Quorate).is_some());
        assert_eq!(
            range(TICKET_LIFETIME + 301, KeyRole::Rotated, Quorum::Quorate),
            None
        );
    }

    #[test]
    fn window_edges_are_excluded() {
        let window = AgeRange::DEFAULT;
        assert!(!window.contains(-300));
        assert!(window.contains(-299));
        assert!(window.contains(7199));
        assert!(!window.contains(7200));
    }

    #[test]
    fn extreme_times_never_overflow() {
        for (now, modified) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, 0)] {
            for role in [KeyRole::Current, KeyRole::Rotated] {
                let _ = age_range(UnixTime(now), UnixTime(modified), role, Quorum::Quorate);
            }
            let _ = rotation_due(
                UnixTime(now),
                Some(UnixTime(modified)),
                Some(UnixTime(now)),
                Quorum::Quorate,
            );
        }
    }

    #[test]
    fn rotation_is_due_when_missing_a_day_old_or_from_the_future() {
        let at = |offset: i64| Some(UnixTime(NOW.0 + offset));
        let due = |current, old| rotation_due(NOW, current, old, Quorum::Quorate);
        assert_eq!(due(None, None), Some(RotationReason::Missing));
        assert_eq!(
            due(at(-AUTHKEY_LIFETIME), None),
            Some(RotationReason::Expired)
        );
        assert_eq!(due(at(-AUTHKEY_LIFETIME + 1), None), None);
        assert_eq!(due(at(300), None), None);
        assert_eq!(due(at(301), None), Some(RotationReason::FromTheFuture));
        // Another node rotated with a fast clock: its old key is recent, leave it.
        assert_eq!(due(at(1000), at(0)), None);
        assert_eq!(
            due(at(1000), at(1000 - TICKET_LIFETIME)),
            Some(RotationReason::FromTheFuture)
        );
        assert_eq!(due(at(1000), at(2000)), Some(RotationReason::FromTheFuture));
        // Without quorum, never.
        assert_eq!(rotation_due(NOW, None, None, Quorum::NotQuorate), None);
        assert_eq!(
            rotation_due(NOW, at(-10 * AUTHKEY_LIFETIME), None, Quorum::NotQuorate),
            None
        );
    }
}
