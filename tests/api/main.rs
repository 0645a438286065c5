//! The gateway's integration tests: one test binary, talking to real gateways
//! over HTTP on random ports, plus a fast in-process layer (`inprocess`).
//!
//! Database tests run on SQLite, PostgreSQL and MariaDB (see `helpers::Backend`).

mod abuse;
mod audit;
mod connection;
mod deploy;
mod grants;
mod graphql;
mod helpers;
mod inprocess;
mod kinds;
mod live;
mod logs;
mod oidc;
mod openapi;
mod ops;
mod playground;
mod pods;
mod redact;
mod rest;
mod reuse;
mod schema;
mod summary;
mod users;
