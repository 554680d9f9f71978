//! JSON as coloured text: each key takes the colour of what the mapping did to it (its trace
//! operation), so the source and the mapped event can be read side by side.

use std::collections::HashMap;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId};
use serde_json::Value;

use crate::mapping::TraceOp;

/// Longest string value shown in full.
const MAX_STRING: usize = 300;
/// Most lines written for one document.
const MAX_LINES: usize = 3000;

/// How keys are coloured.
pub struct Paint<'a> {
    /// Trace operation per path (`eventProps.CT Source`, `events[].data.event_name`).
    pub ops: &'a HashMap<String, TraceOp>,
    /// Prefix added to paths before the lookup (`events[].` for an event shown alone).
    pub prefix: &'a str,
    /// Keys without a trace are dimmed (the source side: those fields are not used).
    pub dim_untraced: bool,
    /// A path to highlight (the trace entry the user picked).
    pub highlight: Option<&'a str>,
    /// Dark theme.
    pub dark: bool,
}

struct Writer<'a> {
    job: LayoutJob,
    paint: &'a Paint<'a>,
    font: FontId,
    lines: usize,
}

/// A record's JSON text as a `serde_json` value for display: same key order, numbers as written.
pub fn source_value(text: &[u8]) -> Value {
    serde_json::from_slice(text).unwrap_or_default()
}

/// Lays out a JSON value, pretty-printed, with coloured keys.
pub fn json_job(value: &Value, paint: &Paint<'_>) -> LayoutJob {
    let mut writer = Writer {
        job: LayoutJob::default(),
        paint,
        font: FontId::monospace(12.0),
        lines: 0,
    };
    writer.value(value, "", 0);
    writer.push("\n", writer.plain());
    writer.job
}

impl Writer<'_> {
    fn plain(&self) -> Color32 {
        if self.paint.dark {
            Color32::from_gray(210)
        } else {
            Color32::from_gray(40)
        }
    }

    fn weak(&self) -> Color32 {
        if self.paint.dark {
            Color32::from_gray(120)
        } else {
            Color32::from_gray(150)
        }
    }

    fn push(&mut self, text: &str, color: Color32) {
        self.push_format(
            text,
            TextFormat {
                font_id: self.font.clone(),
                color,
                ..Default::default()
            },
        );
    }

    fn push_format(&mut self, text: &str, format: TextFormat) {
        if self.lines > MAX_LINES {
            return;
        }
        self.lines += text.matches('\n').count();
        self.job.append(text, 0.0, format);
        if self.lines > MAX_LINES {
            self.job.append(
                "\n… (cut: copy the JSON to see all of it)\n",
                0.0,
                TextFormat {
                    font_id: self.font.clone(),
                    color: Color32::GRAY,
                    ..Default::default()
                },
            );
        }
    }

    fn indent(&mut self, depth: usize) {
        let spaces = "  ".repeat(depth);
        self.push(&spaces, self.plain());
    }

    fn key(&mut self, key: &str, path: &str) {
        let full = format!("{}{path}", self.paint.prefix);
        let op = self.paint.ops.get(&full).copied();
        let traced_below = op.is_none()
            && self.paint.ops.keys().any(|p| {
                p.len() > full.len()
                    && p.starts_with(&full)
                    && p[full.len()..].starts_with(['.', '['])
            });
        let color = match op {
            Some(op) => super::theme::op_color(op, self.paint.dark),
            None if self.paint.dim_untraced && !traced_below => self.weak(),
            None => self.plain(),
        };
        let mut format = TextFormat {
            font_id: self.font.clone(),
            color,
            ..Default::default()
        };
        if op.is_some() {
            format.underline = egui::Stroke::new(0.5, color);
        }
        if self.paint.highlight == Some(full.as_str()) {
            format.background = if self.paint.dark {
                Color32::from_rgb(0x5a, 0x4a, 0x00)
            } else {
                Color32::from_rgb(0xff, 0xf1, 0x76)
            };
        }
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        self.push_format(&quoted, format);
        self.push(": ", self.plain());
    }

    fn value(&mut self, value: &Value, path: &str, depth: usize) {
        match value {
            Value::Object(map) if map.is_empty() => self.push("{}", self.plain()),
            Value::Object(map) => {
                self.push("{\n", self.plain());
                let last = map.len() - 1;
                for (i, (key, child)) in map.iter().enumerate() {
                    let child_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    self.indent(depth + 1);
                    self.key(key, &child_path);
                    self.value(child, &child_path, depth + 1);
                    self.push(if i == last { "\n" } else { ",\n" }, self.plain());
                }
                self.indent(depth);
                self.push("}", self.plain());
            }
            Value::Array(items) if items.is_empty() => self.push("[]", self.plain()),
            Value::Array(items) => {
                self.push("[\n", self.plain());
                let child_path = format!("{path}[]");
                let last = items.len() - 1;
                for (i, child) in items.iter().enumerate() {
                    self.indent(depth + 1);
                    self.value(child, &child_path, depth + 1);
                    self.push(if i == last { "\n" } else { ",\n" }, self.plain());
                }
                self.indent(depth);
                self.push("]", self.plain());
            }
            Value::String(text) => {
                let shown: String = if text.chars().count() > MAX_STRING {
                    let cut: String = text.chars().take(MAX_STRING).collect();
                    format!("{cut}…")
                } else {
                    text.clone()
                };
                let quoted = serde_json::to_string(&shown).unwrap_or(shown);
                let color = if self.paint.dark {
                    Color32::from_rgb(0xce, 0x91, 0x78)
                } else {
                    Color32::from_rgb(0xa3, 0x15, 0x15)
                };
                self.push(&quoted, color);
            }
            other => {
                let color = if self.paint.dark {
                    Color32::from_rgb(0x9c, 0xdc, 0xfe)
                } else {
                    Color32::from_rgb(0x09, 0x86, 0x58)
                };
                self.push(&other.to_string(), color);
            }
        }
    }
}
