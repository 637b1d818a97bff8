//! The vocabulary every stage shares: small value types that more than one stage reads or
//! writes. A leaf: it imports no stage, and every stage may import it.

pub mod conv;
pub mod kind;
pub mod mac;
pub mod ports;
pub mod time;
pub mod units;

pub use mac::Mac;
