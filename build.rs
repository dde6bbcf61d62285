//! Embeds the default definitions (`workflows/**.toml`) in the binary, so it runs from any folder.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for sub in ["", "calendars"] {
        let dir = root.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
            let name = path.strip_prefix(&root).expect("under workflows/").to_string_lossy().replace('\\', "/");
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string()).expect("write to string");
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded_workflows.rs");
    std::fs::write(dest, out).expect("write embedded_workflows.rs");
}
