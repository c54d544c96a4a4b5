//! Just enough GraphQL lexing to tell a mutation from a query and to name an operation in
//! log lines, without a parser dependency.

/// Returns the top-level words of a document: the names outside any braces, parentheses or
/// brackets, skipping comments and strings.
fn top_level_words(doc: &str) -> Vec<&str> {
    let bytes = doc.as_bytes();
    let mut words = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                if depth == 0 {
                    words.push(&doc[start..i]);
                }
            }
            _ => i += 1,
        }
    }
    words
}

/// Tells whether the document defines a mutation.
pub(crate) fn is_mutation(doc: &str) -> bool {
    let words = top_level_words(doc);
    // A definition starts with its keyword; `fragment X on Y` names are skipped as a unit.
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "mutation" => return true,
            "fragment" => i += 4,
            _ => i += 1,
        }
    }
    false
}

/// Returns the operation's name (`query projects(...)` gives `projects`), or its kind.
pub(crate) fn operation_label(doc: &str) -> String {
    let words = top_level_words(doc);
    match words.as_slice() {
        ["query" | "mutation" | "subscription", name, ..] => (*name).to_owned(),
        [kind @ ("query" | "mutation" | "subscription")] => (*kind).to_owned(),
        _ => "query".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_mutations_from_queries() {
        assert!(is_mutation(
            "mutation($data: CreateProjectData!) { data: createProject(data: $data) { id } }"
        ));
        assert!(is_mutation(
            "# comment { \n  mutation appendManyLabels { x }"
        ));
        assert!(is_mutation(
            "fragment F on Label { id } mutation M { a { ...F } }"
        ));
        assert!(!is_mutation("query { viewer { id } }"));
        assert!(!is_mutation("{ mutation }"));
        assert!(!is_mutation(
            "query q($s: String = \"mutation\") { a(s: $s) }"
        ));
        assert!(!is_mutation(
            "fragment mutation on X { id } query { a { ...mutation } }"
        ));
    }

    #[test]
    fn labels_operations() {
        assert_eq!(
            operation_label("query projects($where: ProjectWhere!) { x }"),
            "projects"
        );
        assert_eq!(operation_label("mutation($d: D!) { x }"), "mutation");
        assert_eq!(operation_label("{ viewer { id } }"), "query");
    }
}
