//! Asset actions: `send_back_to_queue` (batches of 100), with the SDK's document and
//! variables, and the reading of Kili's `succeeded`/`declined`/`failed` answer. Uses this
//! folder's batching only.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::client::Kili;
use crate::client::ops::{batches, ids_given};
use crate::client::retry::Safety;
use crate::error::{Error, GraphQlError, Result};

pub(crate) const SEND_ASSETS_BACK_TO_QUEUE: &str = "mutation($where: AssetWhere!) {
  data: sendAssetsBackToQueue(where: $where) {
    succeeded {
      assetId
      externalId
    }
    declined {
      assetId
      externalId
    }
    failed {
      assetId
      externalId
      details
    }
  }
}";

/// What an asset action answered, over all its batches.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ActionOutcome {
    /// The assets now in the state asked for.
    pub(crate) succeeded: Vec<String>,
    /// The assets the action does not apply to (an asset still to do, for a send back).
    pub(crate) declined: Vec<String>,
    /// The assets whose write failed, with the server's details.
    pub(crate) failed: Vec<(String, Option<String>)>,
}

impl ActionOutcome {
    /// Adds one batch's answer (`{succeeded, declined, failed}`, each a list of
    /// `{assetId, ...}`).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the answer does not have that shape.
    pub(crate) fn add(&mut self, answer: &Value) -> Result<()> {
        let bad = || {
            Error::decode(
                "an asset action's outcome",
                format!("expected succeeded, declined and failed lists of assets, got {answer}"),
            )
        };
        let list = |key: &str| -> Result<Vec<&Value>> {
            match answer.get(key) {
                Some(Value::Array(items)) => Ok(items.iter().collect()),
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(_) => Err(bad()),
            }
        };
        let id = |item: &Value| -> Result<String> {
            item.get("assetId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(bad)
        };
        for item in list("succeeded")? {
            self.succeeded.push(id(item)?);
        }
        for item in list("declined")? {
            self.declined.push(id(item)?);
        }
        for item in list("failed")? {
            let details = item
                .get("details")
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.failed.push((id(item)?, details));
        }
        Ok(())
    }

    /// Returns the ids of `asked` that succeeded, in that order, or the error of the failed
    /// ones (the declined ones are left out).
    pub(crate) fn into_result(self, asked: &[String], what: &str) -> Result<Vec<String>> {
        if !self.failed.is_empty() {
            let errors = self
                .failed
                .iter()
                .map(|(id, details)| {
                    let why = details.as_deref().unwrap_or("no details");
                    GraphQlError::new(format!("asset {id} could not be {what}: {why}"))
                })
                .collect();
            return Err(Error::GraphQl { errors });
        }
        if !self.declined.is_empty() {
            log::info!(
                "{} of {} assets were not {what}: the action does not apply to them ({:?})",
                self.declined.len(),
                asked.len(),
                self.declined
            );
        }
        let done: HashSet<&str> = self.succeeded.iter().map(String::as_str).collect();
        Ok(asked
            .iter()
            .filter(|id| done.contains(id.as_str()))
            .cloned()
            .collect())
    }
}

impl Kili {
    /// Sends assets back to the labeling queue with `sendAssetsBackToQueue`, 100 per request
    /// as the SDK does, and returns the ids of the assets sent back, in input order.
    ///
    /// Kili answers for each asset: *succeeded* (it is back in the queue, status `ONGOING`),
    /// *declined* (the action does not apply: an asset still to do, or one skipped in a
    /// multi-step workflow), or *failed* (its write failed; worth trying again). The SDK hands
    /// that answer back as it is; here the succeeded ids are returned, a declined asset is
    /// simply not among them (and logged at `info`), and any failed asset makes the call an
    /// [`Error::GraphQl`] naming each one with Kili's details, once every batch has been sent.
    /// Sending an asset back twice leaves it in the queue, so calling again with the same ids
    /// is safe, and the requests are retried like queries.
    ///
    /// No id, no request: an empty list returns an empty list (the SDK warns and does nothing).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if an id is empty, before any request; [`Error::GraphQl`] for
    /// failed assets (see above); the request errors of [`Kili::graphql`]; [`Error::Decode`]
    /// for an answer without the three lists.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let kili = kili::Kili::from_env()?;
    /// let asked = ["asset-1", "asset-2"];
    /// let sent_back = kili.send_back_to_queue(asked)?;
    /// if sent_back.len() < asked.len() {
    ///     eprintln!("some assets were declined (still to do?)");
    /// }
    /// # Ok::<(), kili::Error>(())
    /// ```
    pub fn send_back_to_queue<I, S>(&self, asset_ids: I) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids = ids_given(asset_ids, "an asset id is empty")?;
        let mut outcome = ActionOutcome::default();
        for range in batches(ids.len()) {
            let vars = json!({"where": {"idIn": &ids[range]}});
            let answer = self.execute_data(SEND_ASSETS_BACK_TO_QUEUE, &vars, Safety::Idempotent)?;
            outcome.add(&answer)?;
        }
        outcome.into_result(&ids, "sent back to the queue")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn outcomes_merge_and_keep_the_input_order() {
        let mut o = ActionOutcome::default();
        o.add(&json!({
            "succeeded": [{"assetId": "b", "externalId": "eb"}],
            "declined": [{"assetId": "a", "externalId": null}],
            "failed": []
        }))
        .unwrap();
        o.add(&json!({"succeeded": [{"assetId": "c"}], "declined": [], "failed": []}))
            .unwrap();
        assert_eq!(o.declined, ["a"]);
        assert_eq!(
            o.into_result(&ids(&["c", "a", "b"]), "sent back").unwrap(),
            ["c", "b"]
        );
    }

    #[test]
    fn failed_assets_are_an_error_naming_each() {
        let mut o = ActionOutcome::default();
        o.add(&json!({
            "succeeded": [{"assetId": "a"}], "declined": [],
            "failed": [{"assetId": "b", "externalId": "eb", "details": "write conflict"}, {"assetId": "c"}]
        }))
        .unwrap();
        let e = o
            .into_result(&ids(&["a", "b", "c"]), "sent back")
            .unwrap_err();
        let errors = e.graphql_errors().unwrap();
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors[0].message,
            "asset b could not be sent back: write conflict"
        );
        assert_eq!(
            errors[1].message,
            "asset c could not be sent back: no details"
        );
    }

    #[test]
    fn malformed_answers_are_decode_errors() {
        for bad in [
            json!({"succeeded": 3}),
            json!({"succeeded": [{"id": "a"}]}),
            json!({"failed": [{"details": "x"}]}),
        ] {
            let mut o = ActionOutcome::default();
            assert!(matches!(o.add(&bad), Err(Error::Decode { .. })), "{bad}");
        }
    }

    #[test]
    fn the_document_is_the_sdks() {
        assert!(SEND_ASSETS_BACK_TO_QUEUE.starts_with(
            "mutation($where: AssetWhere!) {\n  data: sendAssetsBackToQueue(where: $where) {"
        ));
    }
}
