//! Objects kept compact: the JSON text of a cached object, compressed with
//! zstd against a dictionary of its kind.
//!
//! The watch caches keep every object whole, because clients may ask for any
//! of it (`json`, `yaml`, REST detail) and a cached read must not cost an
//! upstream request. Kept as plain text, a pod takes about 3 KB, and most of
//! that is what every pod repeats: the same keys, the same defaults
//! (`terminationMessagePath`, `imagePullPolicy`, tolerations, ...). Objects of
//! one kind in one cluster are much alike, so the first few the gateway sees
//! of a kind become that kind's dictionary (zstd's "raw content" dictionary:
//! no training, the text itself), and every later object is compressed
//! against it: a pod shrinks to a few hundred bytes. Reading it back costs a
//! few microseconds, paid only by the fields that send the whole object.
//!
//! A dictionary is learned once per kind and kept for the process's life;
//! each [`CompactJson`] holds the one it was made with, so the text always
//! comes back exactly.

use std::{
    cell::RefCell,
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use zstd_safe::{CCtx, CDict, DCtx, DDict};

use crate::error::AppError;

/// How many objects of a kind make its dictionary.
const SAMPLES: usize = 8;
/// The most text a dictionary holds.
const DICTIONARY_BYTES: usize = 32 * 1024;
/// zstd's level: 3 is its default, fast enough to compress a large
/// cluster's first list as it arrives.
const LEVEL: i32 = 3;

/// A kind's dictionary, ready for both directions.
struct Dictionary {
    compress: CDict<'static>,
    decompress: DDict<'static>,
}

/// What is known of a kind: its dictionary, once enough objects were seen.
#[derive(Default)]
struct Learner {
    samples: Mutex<Vec<u8>>,
    seen: Mutex<usize>,
    dictionary: OnceLock<Arc<Dictionary>>,
}

impl Learner {
    /// The kind's dictionary, or `None` while it is still being learned (then
    /// `text` counts towards it).
    fn dictionary(&self, text: &[u8]) -> Option<Arc<Dictionary>> {
        if let Some(dictionary) = self.dictionary.get() {
            return Some(dictionary.clone());
        }
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dictionary) = self.dictionary.get() {
            return Some(dictionary.clone());
        }
        let room = DICTIONARY_BYTES.saturating_sub(samples.len());
        samples.extend_from_slice(&text[..text.len().min(room)]);
        *seen += 1;
        if *seen >= SAMPLES || samples.len() >= DICTIONARY_BYTES {
            let dictionary = Arc::new(Dictionary {
                compress: CDict::create(&samples, LEVEL),
                decompress: DDict::create(&samples),
            });
            let _ = self.dictionary.set(dictionary);
            *samples = Vec::new();
        }
        None
    }
}

/// The learners, by kind.
fn learner(kind: &'static str) -> Arc<Learner> {
    static LEARNERS: OnceLock<Mutex<HashMap<&'static str, Arc<Learner>>>> = OnceLock::new();
    LEARNERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(kind)
        .or_default()
        .clone()
}

thread_local! {
    static COMPRESSOR: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DECOMPRESSOR: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// An object's JSON text, compressed.
pub struct CompactJson {
    bytes: Box<[u8]>,
    /// The text's length.
    len: u32,
    /// Kept as it is, uncompressed.
    raw: bool,
    /// The dictionary it was compressed against (none for the first objects
    /// of a kind, which make the dictionary).
    dictionary: Option<Arc<Dictionary>>,
}

impl std::fmt::Debug for CompactJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactJson")
            .field("len", &self.len)
            .field("compressed", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl CompactJson {
    /// Compresses `text`, the JSON of an object of `kind`.
    pub fn new(kind: &'static str, text: &[u8]) -> Self {
        let dictionary = learner(kind).dictionary(text);
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(text.len()));
        let written = COMPRESSOR.with(|cctx| {
            let mut cctx = cctx.borrow_mut();
            match &dictionary {
                Some(dictionary) => cctx.compress_using_cdict(&mut out, text, &dictionary.compress),
                None => cctx.compress(&mut out, text, LEVEL),
            }
        });
        let bytes = match written {
            Ok(_) => out.into_boxed_slice(),
            // zstd fails only without memory for its context; keep the text
            // whole rather than lose it.
            Err(_) => return CompactJson::plain(text),
        };
        CompactJson {
            bytes,
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
            raw: false,
            dictionary,
        }
    }

    /// The text kept as it is.
    fn plain(text: &[u8]) -> Self {
        CompactJson {
            bytes: text.into(),
            len: u32::try_from(text.len()).unwrap_or(u32::MAX),
            raw: true,
            dictionary: None,
        }
    }

    /// The length of the text, in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes kept (for memory figures).
    pub fn compressed_len(&self) -> usize {
        self.bytes.len()
    }

    /// The text.
    pub fn text(&self) -> Result<Vec<u8>, AppError> {
        if self.raw {
            return Ok(self.bytes.to_vec());
        }
        let mut out = Vec::with_capacity(self.len as usize);
        DECOMPRESSOR
            .with(|dctx| {
                let mut dctx = dctx.borrow_mut();
                match &self.dictionary {
                    Some(dictionary) => {
                        dctx.decompress_using_ddict(&mut out, &self.bytes, &dictionary.decompress)
                    }
                    None => dctx.decompress(&mut out, &self.bytes),
                }
            })
            .map_err(|code| {
                AppError::internal(anyhow::anyhow!(
                    "a cached object could not be read back: {}",
                    zstd_safe::get_error_name(code)
                ))
            })?;
        Ok(out)
    }

    /// The object as JSON.
    pub fn value(&self) -> Result<serde_json::Value, AppError> {
        serde_json::from_slice(&self.text()?).map_err(AppError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(i: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("web-{i}"), "namespace": "shop", "uid": format!("uid-{i}")},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
        }))
        .expect("json")
    }

    #[test]
    fn text_comes_back_exactly_before_and_after_the_dictionary() {
        // A kind of its own: other tests' objects do not feed its dictionary.
        let kind = "CompactTestKind";
        let kept: Vec<(Vec<u8>, CompactJson)> = (0..3 * SAMPLES)
            .map(|i| {
                let text = object(i);
                let compact = CompactJson::new(kind, &text);
                (text, compact)
            })
            .collect();
        assert!(kept[0].1.dictionary.is_none(), "the first objects teach");
        assert!(kept[2 * SAMPLES].1.dictionary.is_some());
        for (text, compact) in &kept {
            assert_eq!(&compact.text().expect("text"), text);
            assert_eq!(compact.len(), text.len());
        }
        let (text, compact) = &kept[2 * SAMPLES];
        assert!(
            compact.compressed_len() * 4 < text.len(),
            "against the dictionary an object shrinks: {} of {} bytes",
            compact.compressed_len(),
            text.len()
        );
    }

    #[test]
    fn empty_text_is_kept() {
        let compact = CompactJson::new("CompactEmptyKind", b"");
        assert!(compact.is_empty());
        assert_eq!(compact.text().expect("text"), b"");
    }
}
