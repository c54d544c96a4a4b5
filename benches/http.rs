//! Section 5 of the suite alone: `append_labels` and a lazy `labels` read against a local
//! server in a child process (see `benches/README.md`).
//!
//! ```text
//! cargo bench --bench http
//! ```

// Shared with the suite, of which this bench uses a part.
#[allow(dead_code)]
mod support;

#[path = "sections/http.rs"]
mod http_section;

fn main() {
    support::child::serve_if_child();
    let mut report = support::report::Report::default();
    http_section::run(&mut report, 10_000, 100_000);
    println!("\n{}", report.markdown());
}
