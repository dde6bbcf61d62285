//! The default definitions, built into the binary from `workflows/`.

use crate::definition::load::{DefinitionSet, SourceFile, load};
use crate::definition::problem::Problems;

include!(concat!(env!("OUT_DIR"), "/embedded_workflows.rs"));

pub fn files() -> Vec<SourceFile> {
    FILES.iter().map(|(path, text)| SourceFile { path: (*path).to_owned(), text: (*text).to_owned() }).collect()
}

pub fn load_embedded() -> Result<DefinitionSet, Problems> {
    load(&files())
}
