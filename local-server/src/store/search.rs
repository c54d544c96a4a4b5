//! A label's `search`: counts computed from its `jsonResponse`, as Kili serves them on
//! `Label.search` and in webhook payloads (`numberOfAnnotationsByObject`, keyed
//! `"JOB.CATEGORY"`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Returns `{"numberOfAnnotations": N, "numberOfAnnotationsByObject": {"JOB_0.OBJECT_A": n}}`
/// for a `jsonResponse`: each object (an entry of a job's `annotations`) and each answer of a
/// classification (an entry of a job's `categories`) counts once in `numberOfAnnotations`, and
/// once under `JOB.CATEGORY` for each of its categories; nested jobs (`children`) count too. A
/// response that is not a JSON object counts nothing.
pub(crate) fn label_search(json_response: &str) -> Value {
    let mut by_object = BTreeMap::new();
    let mut total = 0i64;
    if let Ok(Value::Object(jobs)) = serde_json::from_str::<Value>(json_response) {
        walk(&jobs, &mut by_object, &mut total, 0);
    }
    json!({"numberOfAnnotations": total, "numberOfAnnotationsByObject": by_object})
}

/// How deep nested jobs are followed (a guard against absurd inputs).
const MAX_DEPTH: usize = 16;

fn walk(
    jobs: &Map<String, Value>,
    counts: &mut BTreeMap<String, i64>,
    total: &mut i64,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for (job, response) in jobs {
        for category in items(response, "categories") {
            *total += 1;
            count_category(job, category, counts, total, depth);
        }
        for annotation in items(response, "annotations") {
            *total += 1;
            for category in items(annotation, "categories") {
                count_category(job, category, counts, total, depth);
            }
            if let Some(Value::Object(children)) = annotation.get("children") {
                walk(children, counts, total, depth + 1);
            }
        }
    }
}

/// Counts one category under `JOB.NAME`, then the jobs nested in it.
fn count_category(
    job: &str,
    category: &Value,
    counts: &mut BTreeMap<String, i64>,
    total: &mut i64,
    depth: usize,
) {
    if let Some(name) = category.get("name").and_then(Value::as_str) {
        *counts.entry(format!("{job}.{name}")).or_insert(0) += 1;
    }
    if let Some(Value::Object(children)) = category.get("children") {
        walk(children, counts, total, depth + 1);
    }
}

/// Returns the entries of the array `value[key]`, if it is one.
fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> + 'a {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_objects_by_job_and_category() {
        let boxes = json!({"JOB_0": {"annotations": [
            {"categories": [{"name": "OBJECT_A"}], "mid": "1"},
            {"categories": [{"name": "OBJECT_A"}], "mid": "2"},
            {"categories": [{"name": "OBJECT_B"}], "mid": "3",
             "children": {"JOB_1": {"categories": [{"name": "RED"}]}}},
        ]}});
        let search = label_search(&boxes.to_string());
        assert_eq!(
            search,
            json!({"numberOfAnnotations": 4, "numberOfAnnotationsByObject":
                {"JOB_0.OBJECT_A": 2, "JOB_0.OBJECT_B": 1, "JOB_1.RED": 1}})
        );
        let classification = json!({"JOB_0": {"categories": [{"name": "A"}]}});
        assert_eq!(
            label_search(&classification.to_string())["numberOfAnnotationsByObject"],
            json!({"JOB_0.A": 1})
        );
        assert_eq!(label_search("[]")["numberOfAnnotations"], 0);
        assert_eq!(label_search("{}")["numberOfAnnotationsByObject"], json!({}));
    }
}
