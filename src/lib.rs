//! chunked-upload: a drop-in Rust replacement for the two views of the Python
//! package `django-chunked-upload`, byte-compatible with Django's answers.

pub mod cli;
pub mod config;
pub mod django;
pub mod http;
pub mod store;
