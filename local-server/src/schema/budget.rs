//! The resolution budget: a query or mutation may resolve at most [`MAX_RESOLVED`] fields, counted
//! as they are resolved, so that what it costs is bounded by what it returns, whatever the sizes
//! of the lists it walks (the static complexity only guesses them). Past the budget every field
//! fails with `RESOURCE_LIMIT`, and the request ends with what it resolved so far.
//!
//! A subscription's events are not counted: each is one label with the subscription's selection,
//! whose complexity is bounded when it starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, Value};

/// Most fields one query or mutation resolves (a page of 500 labels with 40 fields each is
/// 20,000).
pub(crate) const MAX_RESOLVED: usize = 1_000_000;

/// Makes a budget per request.
pub(crate) struct Budget;

impl ExtensionFactory for Budget {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Spent::default())
    }
}

#[derive(Default)]
struct Spent {
    /// Set while a query or mutation executes (not during a subscription's events).
    counting: AtomicBool,
    resolved: AtomicUsize,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Spent {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.resolved.store(0, Ordering::Relaxed);
        self.counting.store(true, Ordering::Relaxed);
        let response = next.run(ctx, operation_name).await;
        self.counting.store(false, Ordering::Relaxed);
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if self.counting.load(Ordering::Relaxed)
            && self.resolved.fetch_add(1, Ordering::Relaxed) >= MAX_RESOLVED
        {
            let mut e = ServerError::new(
                format!(
                    "[resourceLimit] the request resolves more than {MAX_RESOLVED} fields; \
                     select fewer fields or smaller pages"
                ),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "RESOURCE_LIMIT");
            e.extensions = Some(ext);
            return Err(e);
        }
        next.run(ctx, info).await
    }
}
