//! `RankedSet`: an ordered set that also counts, in O(log n), how many of its elements lie
//! below a bound. A queue position is exactly such a count, and std's `BTreeSet` can only give
//! it by walking the range (O(n)): with tens of thousands waiting, that walk was most of the
//! engine's time on every issue.
//!
//! The set is a list of sorted blocks of at most `BLOCK_MAX` elements, with a Fenwick tree over
//! the block lengths. Counting below a bound: find the block by binary search on the blocks'
//! last elements, sum the lengths before it in the Fenwick tree, then binary search inside the
//! block — three O(log n) steps. Inserting or removing moves at most `BLOCK_MAX` elements and
//! updates the tree; a block that splits or empties rebuilds the tree (O(n / BLOCK_MAX)),
//! which happens once every `BLOCK_MAX / 2` changes at most.

/// Elements per block; a split leaves two blocks of half this.
const BLOCK_MAX: usize = 256;

#[derive(Clone, Debug)]
pub struct RankedSet<T> {
    blocks: Vec<Vec<T>>,
    /// Fenwick (binary indexed) tree over `blocks[i].len()`, 1-based.
    tree: Vec<usize>,
    len: usize,
}

impl<T> Default for RankedSet<T> {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            tree: vec![0],
            len: 0,
        }
    }
}

impl<T: Ord + Copy> RankedSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first(&self) -> Option<&T> {
        self.blocks.first().and_then(|block| block.first())
    }

    pub fn last(&self) -> Option<&T> {
        self.blocks.last().and_then(|block| block.last())
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.blocks.iter().flatten()
    }

    /// The block that holds `value` if it is present, or where it would go.
    fn block_for(&self, value: &T) -> usize {
        let index = self
            .blocks
            .partition_point(|block| block.last().is_some_and(|last| last < value));
        index.min(self.blocks.len().saturating_sub(1))
    }

    pub fn contains(&self, value: &T) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        self.blocks[self.block_for(value)]
            .binary_search(value)
            .is_ok()
    }

    /// Adds `value`; false when it was there already.
    pub fn insert(&mut self, value: T) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![value]);
            self.len = 1;
            self.rebuild();
            return true;
        }
        let index = self.block_for(&value);
        let block = &mut self.blocks[index];
        match block.binary_search(&value) {
            Ok(_) => return false,
            Err(position) => block.insert(position, value),
        }
        self.len += 1;
        if block.len() > BLOCK_MAX {
            let upper = block.split_off(block.len() / 2);
            self.blocks.insert(index + 1, upper);
            self.rebuild();
        } else {
            self.add(index, 1, true);
        }
        true
    }

    /// Removes `value`; false when it was not there.
    pub fn remove(&mut self, value: &T) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let index = self.block_for(value);
        let block = &mut self.blocks[index];
        let Ok(position) = block.binary_search(value) else {
            return false;
        };
        block.remove(position);
        self.len -= 1;
        if block.is_empty() {
            self.blocks.remove(index);
            self.rebuild();
        } else {
            self.add(index, 1, false);
        }
        true
    }

    /// How many elements are strictly below `bound`.
    pub fn count_below(&self, bound: &T) -> usize {
        if self.blocks.is_empty() {
            return 0;
        }
        let index = self
            .blocks
            .partition_point(|block| block.last().is_some_and(|last| last < bound));
        if index == self.blocks.len() {
            return self.len;
        }
        self.prefix(index) + self.blocks[index].partition_point(|value| value < bound)
    }

    /// Sum of the lengths of blocks `0..count`.
    fn prefix(&self, count: usize) -> usize {
        let mut sum = 0;
        let mut position = count;
        while position > 0 {
            sum += self.tree[position];
            position &= position - 1;
        }
        sum
    }

    fn add(&mut self, block: usize, amount: usize, grow: bool) {
        let mut position = block + 1;
        while position < self.tree.len() {
            if grow {
                self.tree[position] += amount;
            } else {
                self.tree[position] -= amount;
            }
            position += position & position.wrapping_neg();
        }
    }

    fn rebuild(&mut self) {
        let count = self.blocks.len();
        self.tree.clear();
        self.tree.resize(count + 1, 0);
        for (index, block) in self.blocks.iter().enumerate() {
            let position = index + 1;
            self.tree[position] += block.len();
            let parent = position + (position & position.wrapping_neg());
            if parent <= count {
                let carried = self.tree[position];
                self.tree[parent] += carried;
            }
        }
    }
}

impl<T: Ord + Copy> FromIterator<T> for RankedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut set = RankedSet::new();
        for item in items {
            set.insert(item);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[derive(Clone, Debug)]
    enum Change {
        Insert(u32),
        Remove(u32),
        RemoveFirst,
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            4 => (0u32..3000).prop_map(Change::Insert),
            2 => (0u32..3000).prop_map(Change::Remove),
            1 => Just(Change::RemoveFirst),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every answer equals the plain BTreeSet's, across splits and emptied blocks.
        #[test]
        fn agrees_with_btreeset(changes in proptest::collection::vec(change(), 1..3000), probes in proptest::collection::vec(0u32..3100, 20)) {
            let mut ranked = RankedSet::new();
            let mut plain = BTreeSet::new();
            for change in changes {
                match change {
                    Change::Insert(v) => prop_assert_eq!(ranked.insert(v), plain.insert(v)),
                    Change::Remove(v) => prop_assert_eq!(ranked.remove(&v), plain.remove(&v)),
                    Change::RemoveFirst => {
                        let first = plain.first().copied();
                        prop_assert_eq!(ranked.first().copied(), first);
                        if let Some(first) = first {
                            prop_assert!(ranked.remove(&first));
                            plain.remove(&first);
                        }
                    }
                }
                prop_assert_eq!(ranked.len(), plain.len());
            }
            prop_assert_eq!(ranked.iter().copied().collect::<Vec<_>>(), plain.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(ranked.last().copied(), plain.last().copied());
            for probe in probes {
                prop_assert_eq!(ranked.count_below(&probe), plain.range(..probe).count());
                prop_assert_eq!(ranked.contains(&probe), plain.contains(&probe));
            }
        }
    }

    #[test]
    fn a_long_queue_counts_without_walking() {
        let set: RankedSet<u64> = (0..100_000).collect();
        assert_eq!(set.count_below(&0), 0);
        assert_eq!(set.count_below(&50_000), 50_000);
        assert_eq!(set.count_below(&u64::MAX), 100_000);
        assert!(set.blocks.len() > 100);
    }
}
