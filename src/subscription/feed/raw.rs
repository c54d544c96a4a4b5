//! [`RawFeed`]: the feed of any subscription document. Every result is an event; nothing is
//! caught up after a gap.

use serde::Deserialize;
use serde_json::Value;

use super::{Context, Feed, Live};
use crate::error::{GraphQlError, Result};
use crate::subscription::events::RawEvent;

/// A result's payload as the machine does not read it: `data`, `errors`.
#[derive(Deserialize)]
pub(crate) struct Payload {
    #[serde(default)]
    data: Value,
    #[serde(default)]
    errors: Vec<Value>,
}

/// Generic subscriptions: every result is an event; nothing to catch up.
#[derive(Debug, Default)]
pub(crate) struct RawFeed;

impl Feed for RawFeed {
    type Event = RawEvent;
    type Payload = Payload;
    const WHAT: &'static str = "a subscription result";

    fn live(&mut self, ctx: &Context, p: Payload) -> Result<Live<RawEvent>> {
        Ok(Live::Event(RawEvent::new(
            p.data,
            p.errors.iter().map(GraphQlError::from_json).collect(),
            ctx.subscription_id.clone(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::subscription::feed::tests::ctx;

    #[test]
    fn raw_events_carry_data_and_errors() {
        let payload =
            RawValue::from_string(r#"{"data": {"x": 1}, "errors": [{"message": "m"}]}"#.to_owned())
                .unwrap();
        let Live::Event(e) = RawFeed
            .live(&ctx(), RawFeed::decode(&payload).unwrap())
            .unwrap()
        else {
            panic!("an event")
        };
        assert_eq!(e.data(), &serde_json::json!({"x": 1}));
        assert_eq!(e.errors()[0].message, "m");
        assert_eq!(e.subscription_id(), "s");
        let bad = RawValue::from_string("\"text\"".to_owned()).unwrap();
        assert!(RawFeed::decode(&bad).is_err());
    }
}
