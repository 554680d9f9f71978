//! Comparing mapped results: a field-by-field diff of two JSON values ([`diff_values`]), a
//! record's mapped side as compared ([`record_view`]), and two whole inputs compared record by
//! record, streamed ([`compare`]).

mod compare;
mod fields;
mod view;

pub use compare::{
    CategoryCounts, CompareError, Location, RecordDiff, Side, Status, Totals, compare,
    compare_cancellable,
};
pub use fields::{Change, FieldDiff, diff_values};
pub use view::{outcome_at, record_view};

#[cfg(test)]
mod tests;
