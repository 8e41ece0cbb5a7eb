//! How answers are shown: a table for people (comfy-table, fitted to the terminal), or JSON
//! for scripts (`--json`).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;

/// Where answers go, and in which form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    /// JSON when `json`, tables otherwise.
    pub(crate) fn new(json: bool) -> Self {
        Output { json }
    }

    /// Whether answers are JSON.
    pub(crate) fn json(self) -> bool {
        self.json
    }

    /// Shows `value`: as JSON, or as the table `table` draws of it.
    pub(crate) fn show<T: Serialize + ?Sized>(self, value: &T, table: impl FnOnce(&T) -> Table) {
        if self.json {
            print_json(value);
        } else {
            println!("{}", table(value));
        }
    }

    /// Shows a one-line outcome: `{key: n}` as JSON, or `text` for people.
    pub(crate) fn outcome(self, key: &str, n: u64, text: &str) {
        if self.json {
            print_json(&serde_json::json!({ key: n }));
        } else {
            println!("{text}");
        }
    }
}

/// `value` as pretty JSON on standard output.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        // Integra's reports are plain data: they always serialize.
        Err(e) => eprintln!("integra: cannot write JSON: {e}"),
    }
}

/// An empty table with `header`, fitted to the terminal.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    table
}

/// `text` cut to `max` characters (an ellipsis marks the cut).
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// An optional value, or a dash.
pub(crate) fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A spinner on standard error while `what` runs: shown on a terminal only (indicatif hides
/// it otherwise), cleared by the caller.
pub(crate) fn spinner(what: &str) -> indicatif::ProgressBar {
    let spinner = indicatif::ProgressBar::new_spinner().with_message(what.to_owned());
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}
