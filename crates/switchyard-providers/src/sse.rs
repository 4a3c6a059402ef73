//! Incremental, size-capped SSE decoder.
