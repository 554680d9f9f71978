//! Export runs among the files of a folder or a bucket prefix: which chunks belong together
//! (request id and run epoch from the export file name), in chunk order, and what is wrong with
//! them (a missing file index, chunks of several runs mixed under one prefix).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::file_name::{ExportFileName, parse_export_file_name};

/// One export chunk of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunChunk {
    /// The file or the object's URL.
    pub path: PathBuf,
    /// The chunk's file index.
    pub file_index: u32,
    /// The event name in the file name.
    pub event_name: String,
    /// The `yyyymmdd` date in the file name.
    pub date: String,
    /// Size in bytes (compressed size for gzip).
    pub size: u64,
}

/// A file index that is not there: `series` names the event and date when a run numbers its
/// chunks per event and day (empty when it numbers them across the run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingChunk {
    /// "App Launched 20240301", or empty.
    pub series: String,
    /// The missing file index.
    pub index: u32,
}

/// The chunks of one export run (same request id and run epoch), in chunk order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRun {
    /// The export request id.
    pub request_id: String,
    /// The run's epoch, as in the file names.
    pub run_epoch: u64,
    /// The chunks, by event, date and file index.
    pub chunks: Vec<RunChunk>,
    /// File indexes missing between 0 and the highest one found.
    pub missing: Vec<MissingChunk>,
}

impl ExportRun {
    /// The run's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|chunk| chunk.size).sum()
    }

    /// The event names of the run, sorted, without repeats.
    pub fn event_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.chunks.iter().map(|c| c.event_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The gaps in a few words: "index 2 missing", or "none".
    pub fn gaps_label(&self) -> String {
        if self.missing.is_empty() {
            return "none".to_string();
        }
        let list: Vec<String> = self.missing.iter().map(missing_label).collect();
        format!("missing {}", list.join(", "))
    }
}

/// The export runs among a list of files with their sizes; files whose names do not follow the
/// export pattern are in `others`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkReport {
    /// The runs, by request id and run epoch.
    pub runs: Vec<ExportRun>,
    /// Files that are not export chunks.
    pub others: Vec<PathBuf>,
}

impl ChunkReport {
    /// Groups `files` (path and size) into export runs.
    pub fn of(files: &[(PathBuf, u64)]) -> Self {
        let mut runs: BTreeMap<(String, u64), Vec<RunChunk>> = BTreeMap::new();
        let mut others = Vec::new();
        for (path, size) in files {
            match export_name(path) {
                Some(name) => runs
                    .entry((name.request_id, name.run_epoch))
                    .or_default()
                    .push(RunChunk {
                        path: path.clone(),
                        file_index: name.file_index,
                        event_name: name.event_name,
                        date: name.date,
                        size: *size,
                    }),
                None => others.push(path.clone()),
            }
        }
        let runs = runs
            .into_iter()
            .map(|((request_id, run_epoch), mut chunks)| {
                chunks.sort_by(|a, b| {
                    (&a.event_name, &a.date, a.file_index, &a.path).cmp(&(
                        &b.event_name,
                        &b.date,
                        b.file_index,
                        &b.path,
                    ))
                });
                let missing = missing_indexes(&chunks);
                ExportRun {
                    request_id,
                    run_epoch,
                    chunks,
                    missing,
                }
            })
            .collect();
        Self { runs, others }
    }

    /// What a user must know before replaying `source` (a folder or a bucket prefix): each
    /// missing chunk, and chunks of several run epochs under one prefix. Empty when the runs
    /// are whole and one.
    pub fn findings(&self, source: &str) -> Vec<String> {
        let mut findings = Vec::new();
        for run in &self.runs {
            for missing in &run.missing {
                let found: Vec<String> = run
                    .chunks
                    .iter()
                    .filter(|chunk| missing.series.is_empty() || series_of(chunk) == missing.series)
                    .map(|chunk| chunk.file_index.to_string())
                    .collect();
                findings.push(format!(
                    "{source}: export run {} ({}): chunk {} is missing (chunks {} found): the export is incomplete; copy the missing chunk into place or export the run again before replaying it",
                    run.run_epoch,
                    run.event_names().join(", "),
                    missing_label(missing),
                    found.join(", "),
                ));
            }
        }
        let mut epochs: BTreeMap<u64, usize> = BTreeMap::new();
        for run in &self.runs {
            *epochs.entry(run.run_epoch).or_default() += run.chunks.len();
        }
        if epochs.len() > 1 {
            let list: Vec<String> = epochs
                .iter()
                .map(|(epoch, count)| format!("run epoch {epoch}: {count} chunks"))
                .collect();
            findings.push(format!(
                "{source}: the chunks disagree on the run epoch ({}): they come from {} export runs; open one run's chunks unless every run is meant to be replayed",
                list.join(", "),
                epochs.len()
            ));
        }
        findings
    }
}

/// Sort key that puts export chunks in chunk order (file index as a number, so chunk 10 comes
/// after chunk 9) and other files in name order.
pub fn chunk_order_key(path: &Path) -> (PathBuf, String, u32, PathBuf) {
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    match export_name(path) {
        Some(name) => (
            parent,
            format!(
                "{}-{}-{}-{}",
                name.request_id, name.run_epoch, name.event_name, name.date
            ),
            name.file_index,
            path.to_path_buf(),
        ),
        None => (
            parent,
            file_name(path).unwrap_or_default().to_string(),
            0,
            path.to_path_buf(),
        ),
    }
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|name| name.to_str())
}

fn export_name(path: &Path) -> Option<ExportFileName> {
    file_name(path).and_then(parse_export_file_name)
}

fn series_of(chunk: &RunChunk) -> String {
    format!("{} {}", chunk.event_name, chunk.date)
}

fn missing_label(missing: &MissingChunk) -> String {
    if missing.series.is_empty() {
        format!("index {}", missing.index)
    } else {
        format!("index {} of {}", missing.index, missing.series)
    }
}

/// A run numbers its chunks either across the run (every index once) or per event and day
/// (indexes repeat across events): the gaps are looked for in the series the run uses.
fn missing_indexes(chunks: &[RunChunk]) -> Vec<MissingChunk> {
    let mut indexes: Vec<u32> = chunks.iter().map(|chunk| chunk.file_index).collect();
    indexes.sort_unstable();
    let distinct = indexes.windows(2).all(|pair| pair.first() != pair.get(1));
    if distinct {
        return gaps(&indexes, "");
    }
    let mut series: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for chunk in chunks {
        series
            .entry(series_of(chunk))
            .or_default()
            .push(chunk.file_index);
    }
    series
        .iter_mut()
        .flat_map(|(name, indexes)| {
            indexes.sort_unstable();
            indexes.dedup();
            gaps(indexes, name)
        })
        .collect()
}

fn gaps(sorted: &[u32], series: &str) -> Vec<MissingChunk> {
    let mut missing = Vec::new();
    let mut expected = 0u32;
    for &index in sorted {
        // A long run of missing indexes is listed in full: each one is a chunk to fetch.
        while expected < index {
            missing.push(MissingChunk {
                series: series.to_string(),
                index: expected,
            });
            expected += 1;
        }
        expected = index.saturating_add(1);
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<(PathBuf, u64)> {
        names
            .iter()
            .map(|name| (PathBuf::from(format!("s3://b/p/{name}")), 10))
            .collect()
    }

    #[test]
    fn a_missing_index_is_found_and_named() {
        let report = ChunkReport::of(&files(&[
            "7-1650003600-App Launched-20220415-0-5.json.gz",
            "7-1650003600-App Launched-20220415-3-5.json",
            "7-1650003600-App Launched-20220415-1-5.json.gz",
            "notes.jsonl",
        ]));
        assert_eq!(report.others, [PathBuf::from("s3://b/p/notes.jsonl")]);
        let [run] = report.runs.as_slice() else {
            panic!("one run expected: {report:?}");
        };
        let order: Vec<u32> = run.chunks.iter().map(|c| c.file_index).collect();
        assert_eq!(order, [0, 1, 3]);
        assert_eq!(run.bytes(), 30);
        assert_eq!(run.gaps_label(), "missing index 2");
        let findings = report.findings("s3://b/p");
        assert_eq!(findings.len(), 1, "{findings:?}");
        let finding = &findings[0];
        assert!(finding.starts_with("s3://b/p: export run 1650003600 (App Launched)"));
        assert!(finding.contains("chunk index 2 is missing (chunks 0, 1, 3 found)"));
    }

    #[test]
    fn per_event_numbering_and_whole_runs_have_no_findings() {
        let report = ChunkReport::of(&files(&[
            "7-1650003600-App Launched-20220415-0-5.json",
            "7-1650003600-App Launched-20220415-1-5.json",
            "7-1650003600-Charged-20220415-0-5.json",
        ]));
        assert!(report.findings("dir").is_empty(), "{report:?}");
        let report = ChunkReport::of(&files(&[
            "7-1650003600-App Launched-20220415-1-5.json",
            "7-1650003600-App Launched-20220415-0-5.json",
            "7-1650003600-Charged-20220415-1-5.json",
        ]));
        let findings = report.findings("dir");
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].contains("chunk index 0 of Charged 20220415 is missing"));
    }

    #[test]
    fn chunks_of_two_run_epochs_are_reported() {
        let report = ChunkReport::of(&files(&[
            "7-1650003600-App Launched-20220415-0-5.json",
            "7-1650090000-App Launched-20220415-1-5.json",
        ]));
        let findings = report.findings("gs://b/p");
        assert!(
            findings.iter().any(|f| f.contains(
                "disagree on the run epoch (run epoch 1650003600: 1 chunks, run epoch 1650090000: 1 chunks)"
            )),
            "{findings:?}"
        );
    }

    #[test]
    fn chunk_order_sorts_the_index_as_a_number() {
        let mut paths: Vec<PathBuf> = [
            "7-1650003600-A-20220415-10-5.json",
            "7-1650003600-A-20220415-9-5.json",
            "a.jsonl",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        paths.sort_by_key(|path| chunk_order_key(path));
        let names: Vec<&str> = paths.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(
            names,
            [
                "7-1650003600-A-20220415-9-5.json",
                "7-1650003600-A-20220415-10-5.json",
                "a.jsonl"
            ]
        );
    }
}
