//! The record selection: a bit per record, a count, and the anchor for shift-click ranges.

/// Selected records.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    bits: Vec<u64>,
    count: usize,
    /// Where a shift-click range starts (a record index).
    pub anchor: Option<u32>,
    /// Bumped by every change, so a plan made from the selection knows when it is stale.
    version: u64,
}

impl Selection {
    /// Number of selected records.
    pub fn len(&self) -> usize {
        self.count
    }

    /// A number that changes whenever the selected records change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether a record is selected.
    pub fn contains(&self, record: u32) -> bool {
        let (word, bit) = (record as usize / 64, record % 64);
        self.bits.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// Selects or deselects a record.
    pub fn set(&mut self, record: u32, on: bool) {
        let (word, bit) = (record as usize / 64, record % 64);
        if word >= self.bits.len() {
            if !on {
                return;
            }
            self.bits.resize(word + 1, 0);
        }
        let was = self.bits[word] & (1 << bit) != 0;
        if on && !was {
            self.bits[word] |= 1 << bit;
            self.count += 1;
            self.version += 1;
        } else if !on && was {
            self.bits[word] &= !(1 << bit);
            self.count -= 1;
            self.version += 1;
        }
    }

    /// Flips a record.
    pub fn toggle(&mut self, record: u32) {
        let on = !self.contains(record);
        self.set(record, on);
    }

    /// Deselects everything.
    pub fn clear(&mut self) {
        if self.count > 0 {
            self.version += 1;
        }
        self.bits.clear();
        self.count = 0;
        self.anchor = None;
    }

    /// Selects many records.
    pub fn extend(&mut self, records: impl IntoIterator<Item = u32>) {
        for record in records {
            self.set(record, true);
        }
    }

    /// Every selected record in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(word, &bits)| {
            (0..64u32)
                .filter(move |bit| bits & (1 << bit) != 0)
                .map(move |bit| word as u32 * 64 + bit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_changes() {
        let mut selection = Selection::default();
        selection.extend([1, 5, 200, 5]);
        assert_eq!(selection.len(), 3);
        selection.toggle(5);
        assert!(!selection.contains(5));
        assert_eq!(selection.iter().collect::<Vec<_>>(), vec![1, 200]);
        selection.set(10_000, false);
        assert_eq!(selection.len(), 2);
        let version = selection.version();
        selection.set(1, true);
        assert_eq!(
            selection.version(),
            version,
            "selecting a selected record changes nothing"
        );
        selection.clear();
        assert_ne!(selection.version(), version);
    }
}
