//! The embedded Kili-compatible server (in progress).
