//! The catch-up's [`Source`] over Kili's API: `countLabels` and `labels` of one project, filtered
//! by `createdAtGte`/`createdAtLte`, selecting the fields the subscription selects.

use serde_json::Value;

use crate::client::Kili;
use crate::client::ops::labels::LabelQuery;
use crate::client::paginate::Paginated;
use crate::client::resources::{LABELS, Page};
use crate::common::time::format_ms;
use crate::error::Result;
use crate::models::Label;
use crate::subscription::feed::catch_up::Source;
use crate::subscription::feed::document::LABEL_EVENT_FIELDS;

/// The labels of one project.
#[derive(Debug, Clone)]
pub(crate) struct ApiSource {
    pub(crate) kili: Kili,
    pub(crate) project_id: String,
}

impl ApiSource {
    fn filter(&self, from: i64, to: i64) -> Result<Value> {
        LabelQuery::new(&self.project_id)
            .created_at_gte(format_ms(from))
            .created_at_lte(format_ms(to))
            .where_()
    }
}

impl Source for ApiSource {
    fn count(&mut self, from: i64, to: i64) -> Result<u64> {
        self.kili.count(&LABELS, &self.filter(from, to)?)
    }

    fn page(&mut self, from: i64, to: i64, first: u64, skip: u64) -> Result<Vec<Label>> {
        let page = Page {
            fields: Some(LABEL_EVENT_FIELDS.iter().map(|f| (*f).to_owned()).collect()),
            first: Some(first),
            skip,
        };
        // `Paginated` stops at `first` rows: one request for a page (the catch-up asks for at
        // most 101, a page and one more, within Kili's largest page of 500).
        Paginated::new(
            &self.kili,
            &LABELS,
            &page,
            self.filter(from, to)?,
            Label::from_json,
        )?
        .per_request(first)
        .collect()
    }
}
