//! The HTTP side around the Leptos pages: the request gate (who is asking, may they, is the
//! form genuine), static assets and health probes.
pub mod alerts_api;
pub mod api_errors;
pub mod assets;
pub mod deploy_api;
pub mod export;
pub mod gate;
pub mod headers;
pub mod health;
pub mod host;
pub mod recipients;
