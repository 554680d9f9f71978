//! What the mapping derives from a property's name, worked out once per name and thread rather
//! than once per record: exports repeat a few hundred names across millions of records.
//!
//! For each raw name the cache keeps its trimmed spelling, whether it is spelled as a latitude
//! or a longitude, and its documented position in each event that documents it. The cache
//! belongs to one engine (its rules): another engine on the same thread starts it afresh. It
//! holds at most [`MAX_NAMES`] names; past that (a file of made-up names) the rest are worked
//! out each time, as before.

use std::cell::RefCell;
use std::collections::HashMap;

use super::attributes::trim_name;
use super::rules::{Rules, attribute_key_into};

/// Names kept per thread. A few hundred is usual; the bound keeps a hostile file from growing
/// the cache without end.
const MAX_NAMES: usize = 8192;

/// What a property name means to the mapping.
#[derive(Debug, Default)]
pub(super) struct NameInfo {
    /// The name with stray spaces removed, when that changes it (empty: nothing is left).
    trimmed: Option<Box<str>>,
    /// Spelled as one of the rules' latitudes.
    pub(super) latitude: bool,
    /// Spelled as one of the rules' longitudes.
    pub(super) longitude: bool,
    /// (event rule index, position among its documented attributes), for every event that
    /// documents this name.
    documented: Vec<(u32, u32)>,
}

impl NameInfo {
    fn of(rules: &Rules, name: &str, key: &mut Vec<u8>, info: &mut NameInfo) {
        attribute_key_into(name, key);
        let spelled = |keys: &[String]| keys.iter().any(|known| known.as_bytes() == key.as_slice());
        info.latitude = spelled(&rules.location_latitude);
        info.longitude = spelled(&rules.location_longitude);
        let trimmed = trim_name(name);
        info.trimmed = (trimmed != name).then(|| trimmed.into());
        info.documented.clear();
        for index in 0..rules.events.len() {
            if let Some(position) = rules.documented_position(index, key) {
                info.documented.push((index as u32, position as u32));
            }
        }
    }

    /// The name as sent: trimmed of stray spaces (`raw` is the name this info was made for).
    pub(super) fn trimmed<'a>(&'a self, raw: &'a str) -> &'a str {
        self.trimmed.as_deref().unwrap_or(raw)
    }

    /// The name's position among the documented attributes of the event at `index`.
    pub(super) fn documented_position(&self, index: usize) -> Option<usize> {
        self.documented
            .iter()
            .find(|(event, _)| *event as usize == index)
            .map(|(_, position)| *position as usize)
    }
}

/// One thread's cache of names for one engine.
#[derive(Default)]
pub(super) struct Names {
    engine: u64,
    index: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    infos: Vec<NameInfo>,
    /// The names of `infos`, in their order.
    names: Vec<Box<str>>,
    /// For each name, the name asked for after it the last time: records of one export list
    /// their properties in much the same order, so the next name is usually found by one
    /// comparison instead of a hash lookup.
    next: Vec<Option<u32>>,
    /// The name asked for last.
    last: Option<u32>,
    /// Event names as written, with the index of their rule (`None`: not documented).
    events: HashMap<Box<str>, Option<u32>, foldhash::fast::RandomState>,
    /// The info of a name not kept (the cache is full).
    spare: NameInfo,
    key: Vec<u8>,
}

thread_local! {
    static NAMES: RefCell<Names> = RefCell::new(Names::default());
}

impl Names {
    /// Runs `work` with this thread's cache for the engine `engine` (its rules `rules`).
    pub(super) fn with<R>(engine: u64, work: impl FnOnce(&mut Names) -> R) -> R {
        NAMES.with(|names| match names.try_borrow_mut() {
            Ok(mut names) => {
                if names.engine != engine {
                    *names = Names {
                        engine,
                        ..Names::default()
                    };
                }
                work(&mut names)
            }
            // Only if mapping ever re-entered itself on one thread: a cache of its own.
            Err(_) => work(&mut Names {
                engine,
                ..Names::default()
            }),
        })
    }

    /// What `name` means under `rules`.
    pub(super) fn info(&mut self, rules: &Rules, name: &str) -> &NameInfo {
        let guess = self
            .last
            .and_then(|last| *self.next.get(last as usize)?)
            .filter(|&guess| {
                (self.names.get(guess as usize)).is_some_and(|known| **known == *name)
            });
        let at = if let Some(at) = guess {
            at
        } else if let Some(&at) = self.index.get(name) {
            at
        } else if self.infos.len() >= MAX_NAMES {
            self.last = None;
            NameInfo::of(rules, name, &mut self.key, &mut self.spare);
            return &self.spare;
        } else {
            let mut info = NameInfo::default();
            NameInfo::of(rules, name, &mut self.key, &mut info);
            let at = self.infos.len() as u32;
            self.infos.push(info);
            self.names.push(name.into());
            self.next.push(None);
            self.index.insert(name.into(), at);
            at
        };
        if let Some(next) = self.last.and_then(|last| self.next.get_mut(last as usize)) {
            *next = Some(at);
        }
        self.last = Some(at);
        &self.infos[at as usize]
    }

    /// The index of the documented event `name` (as written) resolves to under `rules`.
    pub(super) fn event(&mut self, rules: &Rules, name: &str) -> Option<usize> {
        if let Some(&index) = self.events.get(name) {
            return index.map(|index| index as usize);
        }
        let index = rules.event(name).map(|(index, _)| index);
        if self.events.len() < MAX_NAMES {
            self.events
                .insert(name.into(), index.map(|index| index as u32));
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPELLINGS: [&str; 12] = [
        "CT Source",
        " CT  Source",
        "ct_source",
        "CT Latitude",
        "Latitude",
        "lng",
        "",
        " ",
        "Campaign ID",
        "Préférence  langue",
        "Screen 0",
        "CT\tLongitude ",
    ];

    fn assert_agrees(rules: &Rules, names: &mut Names, name: &str) {
        let mut key = Vec::new();
        attribute_key_into(name, &mut key);
        let info = names.info(rules, name);
        assert_eq!(info.trimmed(name), trim_name(name), "{name:?}");
        let spelled = |keys: &[String]| keys.iter().any(|k| k.as_bytes() == key.as_slice());
        assert_eq!(info.latitude, spelled(&rules.location_latitude), "{name:?}");
        assert_eq!(
            info.longitude,
            spelled(&rules.location_longitude),
            "{name:?}"
        );
        for index in 0..rules.events.len() {
            assert_eq!(
                info.documented_position(index),
                rules.documented_position(index, &key),
                "{name:?} in event {index}"
            );
        }
    }

    #[test]
    fn cached_names_agree_with_working_them_out_each_time() {
        let rules = Rules::default_rules().unwrap();
        let mut names = Names::default();
        for _ in 0..2 {
            for name in SPELLINGS {
                assert_agrees(&rules, &mut names, name);
            }
        }
        assert_eq!(names.infos.len(), SPELLINGS.len());
        // Asked for in other orders, where the name that followed last time is a wrong guess.
        for step in [SPELLINGS.len() - 1, 5, 7] {
            for at in 0..SPELLINGS.len() {
                assert_agrees(&rules, &mut names, SPELLINGS[at * step % SPELLINGS.len()]);
            }
        }
        assert_eq!(names.infos.len(), SPELLINGS.len());
        for name in ["App Launched", "app  launched", "No Such Event"] {
            let expected = rules.event(name).map(|(index, _)| index);
            assert_eq!(names.event(&rules, name), expected, "{name}");
            assert_eq!(names.event(&rules, name), expected, "{name}, cached");
        }
    }

    #[test]
    fn a_full_cache_still_answers_and_grows_no_more() {
        let rules = Rules::default_rules().unwrap();
        let mut names = Names::default();
        for at in 0..MAX_NAMES + 50 {
            names.info(&rules, &format!("made up {at}"));
        }
        assert_eq!(names.infos.len(), MAX_NAMES);
        for name in SPELLINGS {
            assert_agrees(&rules, &mut names, name);
        }
    }

    #[test]
    fn another_engine_starts_afresh() {
        let rules = Rules::default_rules().unwrap();
        Names::with(u64::MAX - 1, |names| {
            names.info(&rules, "CT Source");
            assert_eq!(names.infos.len(), 1);
        });
        Names::with(u64::MAX, |names| assert!(names.infos.is_empty()));
    }
}
