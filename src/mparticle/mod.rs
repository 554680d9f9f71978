//! The mParticle Events API model (the parts the CleverTap feed uses) and its limits.

pub mod limits;
mod model;

pub use model::{
    ApplicationInfo, Attributes, Batch, DeviceInfo, Environment, Event, EventData, EventType,
    Location, UserIdentities,
};
