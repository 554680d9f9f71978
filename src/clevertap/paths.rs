//! Which files a folder given as input stands for: the window, `map`, `check` and `send` all
//! read a folder as the CleverTap files directly inside it.

use std::path::{Path, PathBuf};

/// Expands folders into the CleverTap files inside them ([`folder_files`]) and bucket prefixes
/// into their objects ([`super::bucket::list`]); other paths are kept as given, in their order.
/// A folder that cannot be listed stands for no files; a bucket URL that cannot be listed is
/// kept as given, so that opening it says why.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if super::bucket::is_url(path) {
            match super::bucket::list(path) {
                Ok(objects) => out.extend(objects.into_iter().map(|object| object.url)),
                Err(_) => out.push(path.clone()),
            }
        } else if path.is_dir() {
            out.extend(folder_files(path).unwrap_or_default());
        } else {
            out.push(path.clone());
        }
    }
    out
}

/// The files directly inside `folder` that may hold CleverTap records, sorted by name so that
/// every run reads them in the same order. Sub-folders, hidden files, rules files (`.toml`),
/// notes (`.md`, `.txt`) and expected outputs (`.expected…`) are left out.
pub fn folder_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut inside: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && may_hold_records(path))
        .collect();
    inside.sort();
    Ok(inside)
}

pub(crate) fn may_hold_records(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    !name.starts_with('.')
        && !name.ends_with(".toml")
        && !name.ends_with(".md")
        && !name.ends_with(".txt")
        && !name.contains(".expected")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_stands_for_its_clevertap_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.jsonl",
            "a.csv",
            ".hidden.jsonl",
            "rules.toml",
            "README.md",
            "c.json.gz",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(folder_files(dir.path()).unwrap()),
            ["a.csv", "b.jsonl", "c.json.gz"]
        );
        let given = vec![PathBuf::from("z.jsonl"), dir.path().to_path_buf()];
        assert_eq!(
            names(expand_paths(&given)),
            ["z.jsonl", "a.csv", "b.jsonl", "c.json.gz"]
        );
    }
}
