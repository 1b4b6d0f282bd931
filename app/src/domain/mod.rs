//! Domain values shared by the pages and the server: parsed once, never invalid.
pub mod account;
pub mod role;

pub use account::{EmailAddress, NewPassword, PersonName};
pub use role::{Role, Roles};
