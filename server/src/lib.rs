//! The `rollback-desk` server: start-up, configuration, the embedded PostgreSQL, the request
//! gate, and the demo data.
pub mod config;
pub mod demo;
pub mod embedded_postgres;
pub mod mailer;
pub mod overdue;
pub mod runner;
pub mod startup;
pub mod web;
