//! The agent binary end to end without a server: built here so that tests can run it.
