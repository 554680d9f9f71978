//! Rows mapped again in place: an edit of one record (or its revert) changes its index row,
//! what batching reads of it and the counts, without reading the files again; and the rows of
//! some places, found to apply edits to.

use std::collections::HashSet;
use std::sync::Arc;

use super::{CoverageCounts, PlaceKey, RowChunk, Store};
use crate::mapping::Outcome;

impl Store {
    /// The rows read at `line`, `column` of their file, for any of `places` (line, column,
    /// CSV row as kept: 0 when not CSV), with their place: a first sieve for finding the rows
    /// of edits (the file is compared by the caller).
    pub fn rows_at(&self, places: &HashSet<(u64, u64, u64)>) -> Vec<(usize, PlaceKey)> {
        // A few places (one edit, as a rule): the lines compared first, a plain comparison
        // per row; the set only for the rows on those lines.
        let few: Option<Vec<u64>> =
            (places.len() <= 16).then(|| places.iter().map(|(line, _, _)| *line).collect());
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, source)| {
                few.as_ref()
                    .is_none_or(|lines| lines.contains(&source.line))
            })
            .filter(|(_, source)| places.contains(&(source.line, source.column, source.csv_row)))
            .filter_map(|(row, _)| Some((row, self.place_key(row)?)))
            .collect()
    }

    /// Maps `row` again, in place, from `text` (an edit of its record; `None`: back to the
    /// text as read): its index row, what batching reads of it and the counts change, the other
    /// rows stay as they are. Returns the outcome now shown, or `None` when there is no such
    /// row.
    pub fn set_row_text(&mut self, row: usize, text: Option<Vec<u8>>) -> Option<Outcome> {
        let engine = self.engine.clone()?;
        let before = self.outcome(row)?;
        match text {
            Some(text) => {
                let text = self.masked(row, text);
                self.edited.insert(row, Arc::from(text))
            }
            None => self.edited.remove(&row),
        };
        let after = self.outcome(row)?;
        self.accounting.remove(&before);
        self.accounting.add(&after);
        let rules = engine.rules();
        self.coverage
            .subtract(&CoverageCounts::count(rules, std::slice::from_ref(&before)));
        self.coverage
            .merge(CoverageCounts::count(rules, std::slice::from_ref(&after)));
        let file = self.metas.get(row)?.file;
        let mut chunk = RowChunk::new(rules, vec![after.clone()]);
        let (metas, plans) = self.adopt(file, &mut chunk);
        *self.metas.get_mut(row)? = *metas.first()?;
        *self.plans.get_mut(row)? = plans.into_iter().next()?;
        Some(after)
    }

    /// An edit's text as the row's text is kept: masked when the records were read masked (an
    /// edit typed in clear shows only as pseudonyms, like the rest). A text that is not one
    /// record (edits are checked to be) is kept as it is.
    fn masked(&self, row: usize, text: Vec<u8>) -> Vec<u8> {
        let Some(masker) = &self.masker else {
            return text;
        };
        let Some((path, line, column, csv_row)) = self.place_key(row) else {
            return text;
        };
        let place = crate::clevertap::Place {
            file: path,
            line,
            column,
            csv_row: (csv_row > 0).then_some(csv_row),
        };
        match crate::clevertap::parse_text(&place, &text) {
            Ok(value) => masker.record(&place, &value).0,
            Err(_) => text,
        }
    }
}
