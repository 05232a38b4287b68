//! corral-sim: whole corral nodes on turmoil's simulated network (issue #6).
//!
//! Nothing lives here yet: the simulator arrives with the network daemons it drives.
