//! Sending to a feed: settings, HTTP sender, journal, and the local feed. See issue 4.

pub mod cli;
