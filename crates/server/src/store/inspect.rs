//! Reads that look at the database as a whole rather than at one feature: row
//! counts for the operator (and for tests, which check through these what a
//! request wrote, never with SQL of their own).

use super::{on_pool, Store, StoreError};

impl Store {}
