//! corral-snapshots: insta snapshots of what users read. The tests live in `tests/`.
