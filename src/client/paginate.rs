//! Lazy paginated reads and counts: [`Paginated`] fetches a page of 100 when the previous one
//! is used up, so memory stays flat however many rows there are; `Kili::count` sends a
//! resource's count document.
//!
//! Uses `kili` (the calls) and `resources` (the documents); the operations build on it.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::client::Kili;
use crate::client::progress::Progress;
use crate::client::resources::{MAX_PAGE_SIZE, PAGE_SIZE, Page, Resource};
use crate::client::retry::Safety;
use crate::error::{Error, Result};

/// A lazy iterator over the results of a read (`projects`, `assets`, `labels`, `issues`).
///
/// It sends `first`/`skip` pages of at most 100 rows as it is consumed and stops exactly at
/// the `first` rows asked for, on an empty page, or on a short page, so reading 250 rows costs
/// three requests and `first(5)` costs one. Only one page is held in memory.
///
/// Each item is a `Result`: a failed request (after retries) or an undecodable row yields one
/// `Err` and ends the iteration.
///
/// # Examples
///
/// ```no_run
/// use kili::{AssetQuery, Kili};
/// let kili = Kili::from_env()?;
/// for asset in kili.assets(&AssetQuery::new("project-id"))? {
///     let asset = asset?;
///     println!("{} {:?}", asset.id(), asset.external_id());
/// }
/// // or all at once:
/// let all = kili.assets(&AssetQuery::new("project-id"))?.collect_all()?;
/// # Ok::<(), kili::Error>(())
/// ```
#[must_use = "iterators are lazy and send no request until consumed"]
pub struct Paginated<T> {
    kili: Kili,
    query: String,
    resource: &'static Resource,
    where_: Value,
    skip: u64,
    /// Rows still wanted, if `first` was given.
    remaining: Option<u64>,
    page: std::vec::IntoIter<Value>,
    decode: fn(&Value) -> Result<T>,
    done: bool,
    progress: Option<Arc<dyn Progress>>,
    total: Option<u64>,
    fetched: u64,
    /// Rows asked for per request.
    per_request: u64,
}

impl<T> std::fmt::Debug for Paginated<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginated")
            .field("where", &self.where_)
            .field("skip", &self.skip)
            .field("remaining", &self.remaining)
            .field("buffered", &self.page.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T> Paginated<T> {
    /// Creates a lazy read of `resource` filtered by `where_`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for malformed field paths in `page`.
    pub(crate) fn new(
        kili: &Kili,
        resource: &'static Resource,
        page: &Page,
        where_: Value,
        decode: fn(&Value) -> Result<T>,
    ) -> Result<Paginated<T>> {
        let selection = resource.selection(page.fields.as_deref())?;
        Ok(Paginated {
            kili: kili.clone(),
            query: resource.list_document(&selection),
            resource,
            where_,
            skip: page.skip,
            remaining: page.first,
            page: Vec::new().into_iter(),
            decode,
            done: false,
            progress: None,
            total: None,
            fetched: 0,
            per_request: PAGE_SIZE as u64,
        })
    }

    /// Asks for up to `rows` rows per request instead of 100 (1 to Kili's largest page, 500).
    pub(crate) fn per_request(mut self, rows: u64) -> Self {
        self.per_request = rows.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Reports progress to `observer` as pages arrive. The total comes from a count query
    /// sent before the first page (only when an observer is attached).
    ///
    /// Defaults to none (and no count query).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let labels = kili
    ///     .labels(&kili::LabelQuery::new("project-id"))?
    ///     .progress(|done, total| eprintln!("{done}/{total}"))
    ///     .collect_all()?;
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn progress(mut self, observer: impl Progress + 'static) -> Self {
        self.progress = Some(Arc::new(observer));
        self
    }

    /// Reads every remaining row into a `Vec`.
    ///
    /// # Errors
    ///
    /// The first error met (see [`Kili`]'s methods for the kinds).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let projects = kili.projects(&kili::ProjectQuery::new().first(10))?.collect_all()?;
    /// assert!(projects.len() <= 10);
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn collect_all(self) -> Result<Vec<T>> {
        self.collect()
    }

    fn fetch_page(&mut self) -> Result<()> {
        if self.total.is_none()
            && let Some(progress) = &self.progress
        {
            let count = self.kili.count(self.resource, &self.where_)?;
            let total = count.saturating_sub(self.skip);
            let total = self.remaining.map_or(total, |r| r.min(total));
            self.total = Some(total);
            progress.update(0, total);
        }
        let want = self
            .remaining
            .map_or(self.per_request, |r| r.min(self.per_request));
        if want == 0 {
            self.done = true;
            return Ok(());
        }
        let vars = json!({ "where": self.where_, "first": want, "skip": self.skip });
        let rows = self
            .kili
            .execute_data(&self.query, &vars, Safety::Idempotent)?;
        let Value::Array(mut rows) = rows else {
            return Err(Error::decode(
                "a page",
                format!("expected a list, got {rows}"),
            ));
        };
        rows.truncate(want as usize);
        let n = rows.len() as u64;
        self.skip += n;
        self.fetched += n;
        if let Some(r) = &mut self.remaining {
            *r -= n;
        }
        if n < want || self.remaining == Some(0) {
            self.done = true;
        }
        if let (Some(progress), Some(total)) = (&self.progress, self.total) {
            progress.update(self.fetched, total.max(self.fetched));
        }
        self.page = rows.into_iter();
        Ok(())
    }
}

impl<T> Iterator for Paginated<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(row) = self.page.next() {
                let item = (self.decode)(&row);
                if item.is_err() {
                    self.done = true;
                    self.page = Vec::new().into_iter();
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch_page() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

impl<T> std::iter::FusedIterator for Paginated<T> {}

impl Kili {
    /// Counts the objects of `resource` that match `where_`.
    ///
    /// # Errors
    ///
    /// The request errors of [`Kili::graphql`]; [`Error::Decode`] if the count is not a
    /// non-negative integer.
    pub(crate) fn count(&self, resource: &Resource, where_: &Value) -> Result<u64> {
        let vars = json!({ "where": where_ });
        let v = self.execute_data(&resource.count_document(), &vars, Safety::Idempotent)?;
        v.as_u64().ok_or_else(|| {
            Error::decode(
                "a count",
                format!("expected a non-negative integer, got {v}"),
            )
        })
    }
}
