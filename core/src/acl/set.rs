//! Sorted, merged, non-overlapping inclusive intervals with O(log n) membership.
//!
//! Every list entry reduces to an interval of `u32` (IPv4) or `u128` (IPv6); a peer matches the
//! list iff it lies in the union. Merging at build time lets a lookup be one binary search over
//! the interval ends, with no allocation and no dependence on entry order or duplicates.

/// The integer types addresses are held in. `successor` lets touching intervals merge
/// (`[1,4]` and `[5,9]` become `[1,9]`) without overflowing at the top of the space.
pub trait Point: Copy + Ord {
    fn successor(self) -> Option<Self>;
}

impl Point for u32 {
    fn successor(self) -> Option<Self> {
        self.checked_add(1)
    }
}

impl Point for u128 {
    fn successor(self) -> Option<Self> {
        self.checked_add(1)
    }
}

/// A union of inclusive intervals, kept as two parallel arrays so that the binary search only
/// touches `ends` (the half it compares against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalSet<T> {
    /// Ascending; `starts[i] <= ends[i] < starts[i + 1]`, and never touching (merged).
    starts: Vec<T>,
    ends: Vec<T>,
}

// Derived `Default` would require `T: Default`; an empty set needs nothing.
impl<T> Default for IntervalSet<T> {
    fn default() -> Self {
        Self {
            starts: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T: Point> IntervalSet<T> {
    /// Builds the union of `intervals` (inclusive `(first, last)` pairs, in any order, possibly
    /// overlapping or duplicated). A pair with `first > last` is read with its ends swapped.
    pub fn from_intervals(intervals: impl IntoIterator<Item = (T, T)>) -> Self {
        let mut sorted: Vec<(T, T)> = intervals
            .into_iter()
            .map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
            .collect();
        sorted.sort_unstable();
        let mut set = Self::default();
        for (first, last) in sorted {
            set.push_sorted(first, last);
        }
        set
    }

    /// Appends an interval whose start is not below any start seen so far, merging it into the
    /// last interval when they overlap or touch.
    fn push_sorted(&mut self, first: T, last: T) {
        if let Some(previous_end) = self.ends.last_mut() {
            let touches = match previous_end.successor() {
                Some(next) => first <= next,
                // The previous interval already reaches the top of the address space.
                None => true,
            };
            if touches {
                if last > *previous_end {
                    *previous_end = last;
                }
                return;
            }
        }
        self.starts.push(first);
        self.ends.push(last);
    }

    /// Whether `point` lies in one of the intervals. One binary search; no allocation.
    pub fn contains(&self, point: T) -> bool {
        // The first interval that does not end before `point` is the only one that can hold it.
        let index = self.ends.partition_point(|end| *end < point);
        self.starts.get(index).is_some_and(|start| *start <= point)
    }

    /// Whether any point of the inclusive interval `first..=last` lies in the set. One binary
    /// search; no allocation.
    pub fn overlaps(&self, first: T, last: T) -> bool {
        let (first, last) = if first <= last {
            (first, last)
        } else {
            (last, first)
        };
        // The first interval that does not end before `first` is the only candidate: every
        // later one starts after it.
        let index = self.ends.partition_point(|end| *end < first);
        self.starts.get(index).is_some_and(|start| *start <= last)
    }

    /// The merged intervals in ascending order.
    pub fn intervals(&self) -> impl Iterator<Item = (T, T)> + '_ {
        self.starts.iter().copied().zip(self.ends.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_set_contains_nothing() {
        let set = IntervalSet::<u32>::default();
        assert!(!set.contains(0));
        assert!(!set.contains(u32::MAX));
        assert_eq!(set.intervals().count(), 0);
    }

    #[test]
    fn overlapping_touching_and_duplicate_intervals_merge() {
        let set = IntervalSet::from_intervals([(5u32, 9), (1, 4), (20, 30), (25, 26), (1, 4)]);
        assert_eq!(set.intervals().collect::<Vec<_>>(), vec![(1, 9), (20, 30)]);
    }

    #[test]
    fn edges_are_inclusive() {
        let set = IntervalSet::from_intervals([(10u32, 20), (30, 30)]);
        for (point, expected) in [
            (9, false),
            (10, true),
            (20, true),
            (21, false),
            (29, false),
            (30, true),
            (31, false),
        ] {
            assert_eq!(set.contains(point), expected, "{point}");
        }
    }

    #[test]
    fn top_of_the_space_does_not_overflow() {
        let set = IntervalSet::from_intervals([(u128::MAX - 1, u128::MAX), (u128::MAX, u128::MAX)]);
        assert_eq!(
            set.intervals().collect::<Vec<_>>(),
            vec![(u128::MAX - 1, u128::MAX)]
        );
        assert!(set.contains(u128::MAX));
        let full = IntervalSet::from_intervals([(0u32, u32::MAX), (7, 9)]);
        assert_eq!(full.intervals().count(), 1);
        assert!(full.contains(0) && full.contains(u32::MAX));
    }

    #[test]
    fn overlaps_checks_intervals_against_intervals() {
        let set = IntervalSet::from_intervals([(10u32, 20), (30, 30)]);
        for ((first, last), expected) in [
            ((0, 9), false),
            ((0, 10), true),
            ((15, 16), true),
            ((20, 29), true),
            ((21, 29), false),
            ((29, 31), true),
            ((31, u32::MAX), false),
            ((0, u32::MAX), true),
            ((29, 21), false),
        ] {
            assert_eq!(set.overlaps(first, last), expected, "{first}-{last}");
        }
        assert!(!IntervalSet::<u32>::default().overlaps(0, u32::MAX));
    }

    #[test]
    fn reversed_pairs_are_swapped() {
        let set = IntervalSet::from_intervals([(9u32, 5)]);
        assert!(set.contains(5) && set.contains(9) && !set.contains(10));
    }
}
