//! The mParticle Events API model (the parts the CleverTap feed uses) and its limits.

mod attributes;
pub mod limits;
mod model;

pub use attributes::Attributes;

pub use model::{
    ApplicationInfo, Batch, DeviceInfo, Environment, Event, EventData, EventType, Location,
    UserIdentities,
};
