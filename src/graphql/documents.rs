//! Parsed query documents, kept by their text.
//!
//! async-graphql parses every request's text with a PEG parser; for a page of
//! `podConnection` that was a sixth of the request's cost. Frontends send the
//! same few documents again and again with other variables, so a document is
//! parsed once and each request gets a copy (depth and directive limits, and
//! validation, still run on every request).

use std::sync::Arc;

use async_graphql::{
    Request,
    parser::{parse_query, types::ExecutableDocument},
};
use moka::sync::Cache;

/// Most query text kept, in bytes (the documents themselves take a few times
/// more).
const KEPT_TEXT_BYTES: u64 = 2 * 1024 * 1024;

/// Parsed documents by query text.
pub struct Documents {
    parsed: Cache<String, Arc<ExecutableDocument>>,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            parsed: Cache::builder()
                .weigher(|text: &String, _| u32::try_from(text.len()).unwrap_or(u32::MAX))
                .max_capacity(KEPT_TEXT_BYTES)
                .build(),
        }
    }
}

impl Documents {
    /// The document of `query`: the kept one, or the text parsed now and
    /// kept; `None` when it does not parse.
    pub fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(document) = self.parsed.get(query) {
            return Some(document);
        }
        let document = Arc::new(parse_query(query).ok()?);
        self.parsed.insert(query.to_owned(), document.clone());
        Some(document)
    }

    /// `request` with a copy of its document attached. A text that does not
    /// parse is left to execution, which reports why.
    pub fn attach(&self, mut request: Request) -> Request {
        if let Some(document) = self.get(&request.query) {
            request.set_parsed_query(ExecutableDocument::clone(&document));
        }
        request
    }

    /// Documents kept.
    #[cfg(test)]
    fn len(&self) -> u64 {
        self.parsed.run_pending_tasks();
        self.parsed.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_parsed_once_and_bad_text_is_left_to_execution() {
        let documents = Documents::default();
        let query = "query Q($c: String!) { pods(cluster: $c) { name } }";
        let first = documents.attach(Request::new(query));
        let second = documents.attach(Request::new(query));
        assert_eq!(documents.len(), 1);
        for mut request in [first, second] {
            let document = request.parsed_query().expect("attached");
            assert_eq!(document.operations.iter().count(), 1);
        }
        let mut bad = documents.attach(Request::new("{ pods("));
        assert_eq!(
            documents.len(),
            1,
            "nothing kept for text that does not parse"
        );
        assert!(
            bad.parsed_query().is_err(),
            "the error is execution's to report"
        );
    }

    #[test]
    fn kept_text_is_bounded() {
        let documents = Documents::default();
        let field = "a".repeat(16 * 1024);
        for i in 0..200 {
            documents.attach(Request::new(format!("{{ {field}{i} }}")));
        }
        documents.parsed.run_pending_tasks();
        assert!(documents.parsed.weighted_size() <= KEPT_TEXT_BYTES);
        assert!(documents.len() < 200);
    }
}
