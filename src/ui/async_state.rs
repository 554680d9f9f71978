//! A result computed off the UI thread, shown while the next one is computed.

/// A result that arrives later; the last good one stays visible while a new one is computed.
#[derive(Debug, Default)]
pub enum Async<T> {
    /// Nothing asked yet.
    #[default]
    Idle,
    /// Being computed (generation), with the previous result if any.
    Pending(u64, Option<T>),
    /// Computed.
    Ready(T),
}

impl<T> Async<T> {
    /// The result to show: the ready one or the last good one.
    pub fn shown(&self) -> Option<&T> {
        match self {
            Async::Idle => None,
            Async::Pending(_, last) => last.as_ref(),
            Async::Ready(value) => Some(value),
        }
    }

    /// Whether a computation is running.
    pub fn is_pending(&self) -> bool {
        matches!(self, Async::Pending(..))
    }

    /// Marks a new computation, keeping the shown result.
    pub fn start(&mut self, generation: u64) {
        let last = match std::mem::replace(self, Async::Idle) {
            Async::Idle => None,
            Async::Pending(_, last) => last,
            Async::Ready(value) => Some(value),
        };
        *self = Async::Pending(generation, last);
    }

    /// Gives up the running computation (it could not start), showing the last result again.
    pub fn abandon(&mut self) {
        if let Async::Pending(_, last) = std::mem::replace(self, Async::Idle) {
            *self = last.map_or(Async::Idle, Async::Ready);
        }
    }

    /// Takes a result if it is the one awaited.
    pub fn finish(&mut self, generation: u64, value: T) -> bool {
        if matches!(self, Async::Pending(g, _) if *g == generation) {
            *self = Async::Ready(value);
            true
        } else {
            false
        }
    }
}
