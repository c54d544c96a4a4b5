//! Label subscriptions (in progress).
