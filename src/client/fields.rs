//! Dotted field paths to a GraphQL selection set, like the SDK's `fragment_builder`:
//! `["id", "labels.author.email", "labels.id"]` becomes `id labels { author { email } id }`.
//!
//! Fields keep the order in which they first appear, so the document is deterministic.
//! Every segment must be a GraphQL name; a path that is both a leaf and a parent is an error.

use crate::error::{Error, Result};

/// A parsed selection set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Selection {
    /// Fields in first-seen order, each a leaf (`None`) or a nested selection.
    entries: Vec<(String, Option<Selection>)>,
}

impl Selection {
    /// Parses dotted paths.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if the list is empty, a segment is not a GraphQL name, or a path
    /// is used both as a leaf and as a parent (`labels` and `labels.id`).
    pub(crate) fn parse<I, S>(fields: I) -> Result<Selection>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut sel = Selection::default();
        for field in fields {
            let field = field.as_ref().trim();
            let segments: Vec<&str> = field.split('.').collect();
            if let Some(bad) = segments.iter().find(|s| !is_name(s)) {
                return Err(Error::invalid(format!(
                    "field {field:?}: {bad:?} is not a GraphQL field name"
                )));
            }
            sel.insert(&segments, field)?;
        }
        if sel.entries.is_empty() {
            return Err(Error::invalid("at least one field must be selected"));
        }
        Ok(sel)
    }

    fn insert(&mut self, segments: &[&str], path: &str) -> Result<()> {
        let Some((first, rest)) = segments.split_first() else {
            return Ok(());
        };
        let pos = self.entries.iter().position(|(name, _)| name == first);
        let conflict = || {
            Error::invalid(format!(
                "field {path:?}: {first:?} is selected both as a leaf and as an object"
            ))
        };
        match (pos, rest.is_empty()) {
            (None, true) => self.entries.push(((*first).to_owned(), None)),
            (None, false) => {
                let mut child = Selection::default();
                child.insert(rest, path)?;
                self.entries.push(((*first).to_owned(), Some(child)));
            }
            (Some(i), true) => {
                if self.entries[i].1.is_some() {
                    return Err(conflict());
                }
            }
            (Some(i), false) => match &mut self.entries[i].1 {
                Some(child) => child.insert(rest, path)?,
                None => return Err(conflict()),
            },
        }
        Ok(())
    }

    /// Adds the leaf `field` at the root if it is not there.
    pub(crate) fn ensure(&mut self, field: &str) {
        if !self.entries.iter().any(|(n, _)| n == field) {
            self.entries.insert(0, (field.to_owned(), None));
        }
    }

    /// Adds the leaf `field` inside the object `parent`, if `parent` is selected.
    pub(crate) fn ensure_in(&mut self, parent: &str, field: &str) {
        for (name, child) in &mut self.entries {
            if name == parent
                && let Some(child) = child
            {
                child.ensure(field);
            }
        }
    }

    /// Renders the selection set's body (without the outer braces).
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        for (i, (name, child)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(name);
            if let Some(child) = child {
                out.push_str(" { ");
                child.render_into(out);
                out.push_str(" }");
            }
        }
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(fields: &[&str]) -> String {
        Selection::parse(fields).unwrap().render()
    }

    #[test]
    fn nests_dotted_paths() {
        assert_eq!(
            render(&["labels.author.email"]),
            "labels { author { email } }"
        );
        assert_eq!(
            render(&[
                "id",
                "labels.author.email",
                "labels.id",
                "labels.author.id",
                "content"
            ]),
            "id labels { author { email id } id } content"
        );
    }

    #[test]
    fn duplicates_are_merged() {
        assert_eq!(render(&["id", "id", " externalId "]), "id externalId");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Selection::parse(Vec::<&str>::new()).is_err());
        assert!(Selection::parse(["labels", "labels.id"]).is_err());
        assert!(Selection::parse(["labels.id", "labels"]).is_err());
        for bad in [
            "",
            "a..b",
            "a.",
            "1abc",
            "a b",
            "a{b}",
            "labels.author.email }",
        ] {
            let e = Selection::parse([bad]).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{bad:?}");
        }
    }

    #[test]
    fn ensure_adds_ids_where_models_need_them() {
        let mut s = Selection::parse(["externalId", "labels.author.email"]).unwrap();
        s.ensure("id");
        s.ensure_in("labels", "id");
        s.ensure_in("externalId", "id"); // a leaf: untouched
        assert_eq!(s.render(), "id externalId labels { id author { email } }");
    }
}
