//! The vocabulary every stage shares: small value types that more than one stage reads or
//! writes, and the checked byte readers they are read with. A leaf: it imports no stage, and every
//! stage may import it.

pub(crate) mod bytes;
pub mod conv;
pub mod json_lines;
pub mod kind;
pub mod mac;
pub mod ports;
pub mod time;
pub mod units;
pub mod vantage;
pub mod wire;

pub use mac::Mac;
