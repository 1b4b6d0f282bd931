//! The whole integration suite in one binary (few binaries keep builds short).
//! Every test runs the real server on a random port with a database of its own.
mod accounts;
mod alerts;
mod browser;
mod cli;
mod contacts;
mod deployments;
mod emails;
mod embedded_postgres;
mod environments;
mod fuzz;
mod helpers;
mod history;
mod incidents;
mod plans;
mod post_mortems;
mod rendering;
mod rollback_core;
mod runner;
mod runner_faults;
mod security;
mod verification;
