//! Reader tests: every input shape, broken input, limits, property tests and (when present) the
//! shared reference samples. Inputs are written to temporary directories.

mod broken;
mod chunks;
mod props;
mod reference;
mod shapes;
mod support;
