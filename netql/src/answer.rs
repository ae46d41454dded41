//! An answer: the rows a statement produced and how to read them, printed as NetQ prints them
//! (aligned tables with relative times, or JSON with µs timestamps).
//!
//! The reading travels with the rows in the schema's metadata (key [`ANSWER_METADATA`]), so an
//! answer fetched over Arrow Flight prints exactly as one computed in-process.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch, is_not_null};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::error::{Error, Result};
use crate::output::{layout, micros};
use crate::time::format_span;

/// Schema metadata key holding the [`AnswerMeta`] as JSON.
pub const ANSWER_METADATA: &str = "netql.answer";

/// How an answer's rows are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerKind {
    /// `show …`: "Matching <title> records:" and a table.
    Rows { title: String },
    /// `check <family>`: every checked object, `Reason` null when it passed.
    Check {
        family: String,
        /// What the family counts besides nodes ("Session", "Link"); none for node checks.
        noun: Option<String>,
        /// The column naming the node at the other end, whose nodes are checked too.
        peer: Option<String>,
        /// Printed when nothing failed ("No MTU Mismatch found").
        clean: Option<String>,
    },
    /// `show tables`, `describe`, `select`: a plain table.
    Table,
    /// `trace`: one row per hop of every path, printed as the summary and the drawn paths
    /// (`detail`: a table of hops).
    Trace { detail: bool },
    /// `explain`: the statement as NetQL reads it (canonical text, and the time it reads),
    /// then DataFusion's plans.
    Explain { netql: String },
}

/// The counts a check prints above its failures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSummary {
    pub checked_nodes: usize,
    pub failed_nodes: usize,
    pub total_items: usize,
    pub failed_items: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnswerMeta {
    #[serde(flatten)]
    kind: AnswerKind,
    now: i64,
    summary: Option<CheckSummary>,
    #[serde(default)]
    json: bool,
}

/// The rows a statement produced, ready to print.
#[derive(Debug, Clone)]
pub struct Answer {
    pub kind: AnswerKind,
    /// The instant relative times are printed against (µs since the epoch).
    pub now: i64,
    /// For checks: the counts over every checked object.
    pub summary: Option<CheckSummary>,
    /// The statement asked for JSON.
    pub json: bool,
    /// For checks: the failures only; otherwise every row.
    pub batches: Vec<RecordBatch>,
    pub schema: SchemaRef,
}

/// Column a check's rows carry the failure reason in.
pub const REASON: &str = "Reason";
/// Column a check's rows name the node in.
pub const NODE: &str = "Node";

impl Answer {
    /// Builds the answer from everything a plan returned; a check keeps only its failures.
    pub fn new(
        kind: AnswerKind,
        now: i64,
        json: bool,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<Answer> {
        let (summary, batches) = match kind {
            AnswerKind::Check { ref peer, .. } => {
                let (summary, failures) = summarise_check(&schema, &batches, peer.as_deref())?;
                (Some(summary), failures)
            }
            _ => (None, batches),
        };
        Ok(Answer {
            kind,
            now,
            summary,
            json,
            batches,
            schema,
        })
    }

    /// Whether the answer is a check that found failures.
    pub fn failed(&self) -> bool {
        self.summary
            .is_some_and(|s| s.failed_items > 0 || s.failed_nodes > 0)
    }

    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The schema with the reading attached, as sent over Flight.
    pub fn schema_with_metadata(&self) -> SchemaRef {
        let meta = AnswerMeta {
            kind: self.kind.clone(),
            now: self.now,
            summary: self.summary,
            json: self.json,
        };
        let mut metadata = self.schema.metadata().clone();
        metadata.insert(
            ANSWER_METADATA.to_string(),
            serde_json::to_string(&meta).unwrap_or_default(),
        );
        Arc::new(Schema::new_with_metadata(
            self.schema.fields().clone(),
            metadata,
        ))
    }

    /// Rebuilds an answer from rows whose schema carries the reading (see [`schema_with_metadata`]).
    ///
    /// [`schema_with_metadata`]: Answer::schema_with_metadata
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Answer> {
        let meta = schema.metadata().get(ANSWER_METADATA).ok_or_else(|| {
            Error::Internal(format!("the answer has no `{ANSWER_METADATA}` metadata"))
        })?;
        let meta: AnswerMeta = serde_json::from_str(meta)
            .map_err(|e| Error::Internal(format!("unreadable answer metadata: {e}")))?;
        Ok(Answer {
            kind: meta.kind,
            now: meta.now,
            summary: meta.summary,
            json: meta.json,
            batches,
            schema,
        })
    }

    /// JSON when the statement asked for it, else text.
    pub fn render(&self) -> Result<String> {
        if self.json {
            self.render_json()
        } else {
            self.render_text()
        }
    }

    /// NetQ's text form.
    pub fn render_text(&self) -> Result<String> {
        let table = TextTable::build(&self.schema, &self.batches, self.now)?;
        Ok(match &self.kind {
            AnswerKind::Rows { title } if table.rows.is_empty() => {
                format!("No matching {title} records found\n")
            }
            AnswerKind::Rows { title } => format!("Matching {title} records:\n{}", table.render()),
            AnswerKind::Check { noun, clean, .. } => {
                let summary = self.summary.unwrap_or_default();
                let mut out = summary_line(&summary, noun.as_deref());
                out.push('\n');
                if table.rows.is_empty() {
                    if let Some(clean) = clean {
                        out.push_str(clean);
                        out.push('\n');
                    }
                } else {
                    out.push_str(&table.render());
                }
                out
            }
            AnswerKind::Table if table.rows.is_empty() => "No rows\n".to_string(),
            AnswerKind::Table => table.render(),
            AnswerKind::Explain { netql } => explain_text(netql, &table),
            AnswerKind::Trace { detail } => crate::trace::render_text(&self.batches, *detail)?,
        })
    }

    /// NetQ's JSON form: a check as `{"failedNodes": […], "summary": {…}}`, anything else as an
    /// array of objects. Keys are the column headers in camelCase; times are µs since the epoch.
    pub fn render_json(&self) -> Result<String> {
        if let AnswerKind::Trace { .. } = self.kind {
            return crate::trace::render_json(&self.batches);
        }
        let rows = json_objects(&self.schema, &self.batches)?;
        Ok(match &self.kind {
            AnswerKind::Check { noun, .. } => {
                let summary = self.summary.unwrap_or_default();
                let mut counts = vec![
                    ("checkedNodeCount".to_string(), json!(summary.checked_nodes)),
                    ("failedNodeCount".to_string(), json!(summary.failed_nodes)),
                ];
                if let Some(noun) = noun {
                    let noun: String = noun.split_whitespace().collect();
                    counts.push((format!("total{noun}Count"), json!(summary.total_items)));
                    counts.push((format!("failed{noun}Count"), json!(summary.failed_items)));
                }
                format!(
                    "{{\n  \"failedNodes\": {},\n  \"summary\": {}\n}}",
                    json_array(&rows, "  "),
                    json_object(&counts, "  ")
                )
            }
            _ => json_array(&rows, ""),
        })
    }
}

/// `Total Nodes: 25, Failed Nodes: 2, Total Sessions: 228, Failed Sessions: 2`.
fn summary_line(summary: &CheckSummary, noun: Option<&str>) -> String {
    let mut line = format!(
        "Total Nodes: {}, Failed Nodes: {}",
        summary.checked_nodes, summary.failed_nodes
    );
    if let Some(noun) = noun {
        let nouns = plural(noun);
        line.push_str(&format!(
            ", Total {nouns}: {}, Failed {nouns}: {}",
            summary.total_items, summary.failed_items
        ));
    }
    line
}

/// `Session` → `Sessions`, `Adjacency` → `Adjacencies`.
fn plural(noun: &str) -> String {
    match noun.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{noun}s"),
    }
}

/// Counts checked nodes and objects, and keeps the rows whose `Reason` is set.
fn summarise_check(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    peer: Option<&str>,
) -> Result<(CheckSummary, Vec<RecordBatch>)> {
    let reason = schema
        .index_of(REASON)
        .map_err(|_| Error::Internal("a check without a Reason column".into()))?;
    let mut node_columns = vec![
        schema
            .index_of(NODE)
            .map_err(|_| Error::Internal("a check without a Node column".into()))?,
    ];
    node_columns.extend(peer.and_then(|peer| schema.index_of(peer).ok()));
    let (mut nodes, mut failed_nodes) = (HashSet::new(), HashSet::new());
    let mut summary = CheckSummary::default();
    let mut failures = Vec::new();
    for batch in batches {
        let reasons = batch.column(reason);
        summary.total_items += batch.num_rows();
        summary.failed_items += batch.num_rows() - reasons.null_count();
        for &column in &node_columns {
            let names = cast(batch.column(column), &DataType::Utf8)?;
            let names = names.as_string::<i32>();
            for row in (0..batch.num_rows())
                .filter(|&row| names.is_valid(row) && !names.value(row).is_empty())
            {
                // A failing row fails its node; its peer is named, not counted as failing.
                if reasons.is_valid(row) && column == node_columns[0] {
                    failed_nodes.insert(names.value(row).to_string());
                }
                nodes.insert(names.value(row).to_string());
            }
        }
        let failed = filter_record_batch(batch, &is_not_null(reasons)?)?;
        if failed.num_rows() > 0 {
            failures.push(failed);
        }
    }
    summary.checked_nodes = nodes.len();
    summary.failed_nodes = failed_nodes.len();
    Ok((summary, failures))
}

/// How a time column prints in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeStyle {
    /// `10h ago`: when something happened (a check's `Time`).
    Ago,
    /// `1d:4h:55m:0s`: how long since (Last Changed, uptimes).
    Age,
    /// `2026-11-20T10:00:00Z`
    Instant,
}

fn time_style(header: &str) -> TimeStyle {
    const AGE: &[&str] = &["Last Changed", "Reinitialize Time", "Last Flap"];
    if header == "Time" {
        TimeStyle::Ago
    } else if AGE.contains(&header) || header.ends_with("Uptime") {
        TimeStyle::Age
    } else {
        TimeStyle::Instant
    }
}

/// `10h ago`, coarser the older: seconds under a minute, minutes under an hour, hours under a day.
pub fn format_ago(micros: i64) -> String {
    let secs = micros.max(0) / 1_000_000;
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3_600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3_600),
        s => format!("{}d ago", s / 86_400),
    }
}

fn format_instant(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| micros.to_string())
}

struct TextTable {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl TextTable {
    fn build(schema: &SchemaRef, batches: &[RecordBatch], now: i64) -> Result<TextTable> {
        let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let options = FormatOptions::default().with_null("");
        let mut rows = Vec::new();
        for batch in batches {
            let mut columns: Vec<Vec<String>> = Vec::with_capacity(batch.num_columns());
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                columns.push(match column.data_type() {
                    DataType::Timestamp(..) => time_cells(column, time_style(field.name()), now)?,
                    _ => {
                        let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
                        (0..batch.num_rows())
                            .map(|row| formatter.value(row).to_string())
                            .collect()
                    }
                });
            }
            for row in 0..batch.num_rows() {
                rows.push(columns.iter().map(|c| c[row].clone()).collect());
            }
        }
        Ok(TextTable { headers, rows })
    }

    fn render(&self) -> String {
        layout(&self.headers, &self.rows, "  ")
    }
}

fn time_cells(column: &Arc<dyn Array>, style: TimeStyle, now: i64) -> Result<Vec<String>> {
    let values = micros(column)?;
    let values = values.as_primitive::<arrow::datatypes::Int64Type>();
    Ok((0..values.len())
        .map(|row| {
            if values.is_null(row) {
                return String::new();
            }
            let at = values.value(row);
            match style {
                TimeStyle::Ago => format_ago(now - at),
                TimeStyle::Age => format_span(now - at),
                TimeStyle::Instant => format_instant(at),
            }
        })
        .collect())
}

/// `explain` prints each plan under its kind.
fn explain_text(netql: &str, table: &TextTable) -> String {
    let mut out = String::from("netql:\n");
    for line in netql.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    for row in &table.rows {
        if let [kind, plan, ..] = row.as_slice() {
            out.push_str(&format!("{kind}:\n"));
            for line in plan.lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    out
}

/// `Peer ASN` → `peerAsn`, `Last Changed` → `lastChanged`, `hostname` → `hostname`.
pub fn camel_case(header: &str) -> String {
    let mut out = String::new();
    for (i, word) in header
        .split([' ', '_', '-'])
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let lower = word.to_lowercase();
        if i == 0 {
            out.push_str(&lower);
        } else {
            let mut chars = lower.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// A row as its `(key, value)` pairs, in column order.
type JsonRow = Vec<(String, Json)>;

fn json_objects(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<JsonRow>> {
    let keys: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| camel_case(f.name()))
        .collect();
    let mut objects = Vec::new();
    for batch in batches {
        let columns: Vec<Vec<Json>> = batch
            .columns()
            .iter()
            .map(json_values)
            .collect::<Result<_>>()?;
        for row in 0..batch.num_rows() {
            objects.push(
                keys.iter()
                    .zip(&columns)
                    .map(|(key, values)| (key.clone(), values[row].clone()))
                    .collect(),
            );
        }
    }
    Ok(objects)
}

/// Pretty JSON that keeps the columns' order (NetQ prints keys in its own order, not sorted).
fn json_array(rows: &[JsonRow], indent: &str) -> String {
    if rows.is_empty() {
        return "[]".to_string();
    }
    let inner = format!("{indent}  ");
    let items: Vec<String> = rows
        .iter()
        .map(|row| format!("{inner}{}", json_object(row, &inner)))
        .collect();
    format!("[\n{}\n{indent}]", items.join(",\n"))
}

fn json_object(pairs: &[(String, Json)], indent: &str) -> String {
    if pairs.is_empty() {
        return "{}".to_string();
    }
    let fields: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{indent}  {}: {value}", Json::String(key.clone())))
        .collect();
    format!("{{\n{}\n{indent}}}", fields.join(",\n"))
}

/// One column as JSON values; times as µs since the epoch.
fn json_values(column: &Arc<dyn Array>) -> Result<Vec<Json>> {
    if column.is_empty() {
        return Ok(Vec::new());
    }
    let column = match column.data_type() {
        DataType::Timestamp(..) => micros(column)?,
        _ => Arc::clone(column),
    };
    let batch = RecordBatch::try_from_iter([("v", column)])?;
    let mut writer = arrow::json::ArrayWriter::new(Vec::new());
    writer.write(&batch)?;
    writer.finish()?;
    let rows: Vec<Map<String, Json>> =
        serde_json::from_slice(&writer.into_inner()).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(rows
        .into_iter()
        .map(|mut row| row.remove("v").unwrap_or(Json::Null))
        .collect())
}
