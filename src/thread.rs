//! The one way feedlens starts a thread: named, so a panic message, a debugger, `top -H` or a
//! profile says which worker it was, and fallible, so a system out of threads or memory is
//! reported where the work was asked for instead of panicking.
//!
//! `std::thread::spawn`, `std::thread::Builder::spawn` and `std::thread::Builder::spawn_scoped`
//! are disallowed elsewhere (clippy.toml).

use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

/// Starts `f` on a new thread called `name` (keep it short: Linux shows 15 bytes of it).
///
/// Unlike `std::thread::spawn`, a failure to start the thread (the system is out of threads or
/// memory) is returned, not a panic; `f` is dropped then, so the caller reports the error.
pub fn spawn_named<F, T>(name: &str, f: F) -> std::io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place a thread is started; everything else calls spawn_named"
    )]
    std::thread::Builder::new().name(name.to_owned()).spawn(f)
}

/// Starts `f` on a new thread called `name` inside `scope` (it may borrow from the caller and
/// is joined when the scope ends); a failure to start is returned, as [`spawn_named`]'s is.
pub fn spawn_scoped_named<'scope, 'env, F, T>(
    scope: &'scope Scope<'scope, 'env>,
    name: &str,
    f: F,
) -> std::io::Result<ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place a scoped thread is started; everything else calls spawn_scoped_named"
    )]
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn_scoped(scope, f)
}

/// The message for a thread that could not start: which work, why, and what to do.
pub fn start_failed(name: &str, error: &std::io::Error) -> String {
    format!(
        "could not start the {name} thread: {error} (the system is out of threads or memory: close other programs and try again)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_carries_its_name_and_returns_its_result() {
        let handle = spawn_named("feedlens-test", || {
            std::thread::current().name().map(str::to_owned)
        })
        .unwrap();
        assert_eq!(handle.join().unwrap().as_deref(), Some("feedlens-test"));
    }

    #[test]
    fn a_scoped_thread_carries_its_name_and_borrows_from_its_caller() {
        let words = ["a", "b"];
        let (name, count) = std::thread::scope(|scope| {
            spawn_scoped_named(scope, "feedlens-test", || {
                (
                    std::thread::current().name().map(str::to_owned),
                    words.len(),
                )
            })
            .unwrap()
            .join()
            .unwrap()
        });
        assert_eq!((name.as_deref(), count), (Some("feedlens-test"), 2));
    }

    #[test]
    fn the_failure_message_names_the_work_and_the_cause() {
        let error = std::io::Error::new(std::io::ErrorKind::OutOfMemory, "no memory");
        let message = start_failed("feedlens-load", &error);
        assert!(message.contains("feedlens-load"), "{message}");
        assert!(message.contains("no memory"), "{message}");
    }
}
