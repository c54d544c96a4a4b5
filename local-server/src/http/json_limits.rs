//! Bounds on the shape of a JSON text, checked before it is parsed: a parsed value costs many
//! times its text (`[0,0,...]` takes 2 bytes a value as text and 32 or more once parsed), so a
//! body within the size limit could still cost hundreds of MiB. The scan allocates nothing and
//! reads each byte once; it does not validate (the parser does that after).

/// Deepest nesting of arrays and objects accepted (GraphQL variables need a handful).
pub(crate) const MAX_DEPTH: usize = 64;
/// Most items in one array or members in one object.
pub(crate) const MAX_ITEMS: usize = 100_000;
/// Most values in the whole text (scalars, arrays and objects), about 32 MiB once parsed.
pub(crate) const MAX_VALUES: usize = 1_000_000;

/// Checks that `text` nests at most [`MAX_DEPTH`] deep, that no array or object holds more than
/// [`MAX_ITEMS`], and that it holds at most [`MAX_VALUES`] values.
///
/// # Errors
///
/// A message naming the bound exceeded.
pub(crate) fn check(text: &[u8]) -> Result<(), String> {
    // Items so far in each open container, innermost last.
    let mut items = [0usize; MAX_DEPTH];
    let mut depth = 0usize;
    let mut values = 0usize;
    let mut in_value = false;
    let mut bytes = text.iter();
    while let Some(&b) = bytes.next() {
        let starts_value = match b {
            b'"' => {
                skip_string(&mut bytes);
                true
            }
            b'[' | b'{' => {
                if depth == MAX_DEPTH {
                    return Err(format!("JSON nested deeper than {MAX_DEPTH} levels"));
                }
                depth += 1;
                items[depth - 1] = 0;
                in_value = false;
                count(&mut values)?;
                continue;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                in_value = true;
                continue;
            }
            b',' => {
                in_value = false;
                if let Some(n) = depth.checked_sub(1).map(|d| &mut items[d]) {
                    *n += 1;
                    if *n >= MAX_ITEMS {
                        return Err(format!(
                            "a JSON array or object holds over {MAX_ITEMS} items"
                        ));
                    }
                }
                continue;
            }
            b':' => {
                in_value = false;
                continue;
            }
            b if b.is_ascii_whitespace() => {
                continue;
            }
            // A number or a literal: counted at its first byte.
            _ => !in_value,
        };
        if starts_value {
            in_value = true;
            count(&mut values)?;
        }
    }
    Ok(())
}

fn count(values: &mut usize) -> Result<(), String> {
    *values += 1;
    if *values > MAX_VALUES {
        return Err(format!("JSON holds over {MAX_VALUES} values"));
    }
    Ok(())
}

/// Skips the rest of a string whose opening quote was read.
fn skip_string<'a>(bytes: &mut impl Iterator<Item = &'a u8>) {
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'"' => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_requests_pass() {
        for ok in [
            r#"{"query":"{ viewer { id } }","variables":{"a":[1,2,{"b":"x\"]"}]}}"#,
            r#"[{"query":"q"},{"query":"r"}]"#,
            "",
            "12",
        ] {
            assert_eq!(check(ok.as_bytes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn deep_long_and_numerous_are_refused() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(check(deep.as_bytes()).unwrap_err().contains("deeper"));
        let at_depth = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(check(at_depth.as_bytes()), Ok(()));
        let long = format!("[{}0]", "0,".repeat(MAX_ITEMS));
        assert!(check(long.as_bytes()).unwrap_err().contains("items"));
        let fits = format!("[{}0]", "0,".repeat(MAX_ITEMS - 2));
        assert_eq!(check(fits.as_bytes()), Ok(()));
        let row = format!("[{}0]", "0,".repeat(MAX_ITEMS / 2));
        let many = format!(
            "[{}{row}]",
            format!("{row},").repeat(MAX_VALUES / MAX_ITEMS * 2)
        );
        assert!(check(many.as_bytes()).unwrap_err().contains("values"));
        // Commas inside strings are not items.
        let string = format!("[\"{}\"]", ",".repeat(MAX_ITEMS * 2));
        assert_eq!(check(string.as_bytes()), Ok(()));
    }
}
