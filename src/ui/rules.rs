//! The engine the window maps with: rules from a file or built in, with the window's options.

use std::path::Path;
use std::sync::Arc;

use crate::mapping::{Engine, MapOptions, Rules, RulesError};

/// The options the window maps with.
pub fn window_options(timezone: Option<chrono_tz::Tz>, event_name: Option<String>) -> MapOptions {
    MapOptions {
        event_name,
        timezone,
        // The detail view shows each record's source next to what is sent.
        keep_source: true,
        ..MapOptions::default()
    }
}

/// An engine over the rules in `path` (None: built in), or the reason it cannot be made.
pub fn engine(
    path: Option<&Path>,
    timezone: Option<chrono_tz::Tz>,
    event_name: Option<String>,
) -> Result<Engine, RulesError> {
    let rules = match path {
        Some(path) => Rules::load(path),
        None => Rules::default_rules(),
    }?;
    Ok(Engine::new(
        Arc::new(rules),
        window_options(timezone, event_name),
    ))
}

/// An engine over the built-in rules.
pub fn builtin_engine(
    timezone: Option<chrono_tz::Tz>,
    event_name: Option<String>,
) -> Result<Engine, RulesError> {
    engine(None, timezone, event_name)
}

/// `engine` with masking of personal data on (`on`), with the salt in `salt` (made on first
/// use): records are masked as they are read, so every view, export and screenshot shows only
/// pseudonyms. Off: `engine` as it is, without masking.
pub fn with_mask(engine: Engine, on: bool, salt: &Path) -> Result<Engine, String> {
    let mut options = engine.options().clone();
    if on == options.mask.is_some() {
        return Ok(engine);
    }
    options.mask = if on {
        let salt = crate::mask::load_or_create_salt(salt)
            .map_err(|error| format!("masking cannot start: {error}"))?;
        Some(Arc::new(crate::mask::Masker::new(&salt, engine.rules())))
    } else {
        None
    };
    Ok(Engine::new(Arc::new(engine.rules().clone()), options))
}
