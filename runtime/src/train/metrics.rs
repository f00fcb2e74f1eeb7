//! Placeholder; filled in by the training work.
