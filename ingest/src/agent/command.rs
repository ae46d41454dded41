//! Running a node's own tools (`vtysh`, `lldpcli`, `chronyc`, `systemctl`) with a time limit and
//! reading their JSON.

use std::time::Duration;

use tokio::process::Command;

use crate::error::{Error, Result};

const TIME_LIMIT: Duration = Duration::from_secs(10);

/// A program and the arguments that always come first, such as `vtysh -N leaf01`.
#[derive(Debug, Clone)]
pub struct Tool {
    words: Vec<String>,
}

impl Tool {
    /// Splits a command line on whitespace; `None` when it is empty.
    pub fn parse(line: &str) -> Option<Tool> {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        (!words.is_empty()).then_some(Tool { words })
    }

    /// True when the program can be found (an absolute path, or a name on `PATH`).
    pub fn exists(&self) -> bool {
        let program = &self.words[0];
        if program.contains('/') {
            return std::path::Path::new(program).exists();
        }
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        })
    }

    /// Runs the tool with `args` and returns its standard output.
    pub async fn output(&self, args: &[&str]) -> Result<String> {
        let shown = || format!("{} {}", self.words.join(" "), args.join(" "));
        let mut command = Command::new(&self.words[0]);
        command.args(&self.words[1..]).args(args).kill_on_drop(true);
        let output = tokio::time::timeout(TIME_LIMIT, command.output())
            .await
            .map_err(|_| Error::Command {
                command: shown(),
                message: format!("no answer within {}s", TIME_LIMIT.as_secs()),
            })?
            .map_err(|e| Error::Command {
                command: shown(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(Error::Command {
                command: shown(),
                message: format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        String::from_utf8(output.stdout).map_err(|_| Error::Output {
            command: shown(),
            message: "not UTF-8".into(),
        })
    }

    /// Runs the tool and parses its output as JSON.
    pub async fn json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let text = self.output(args).await?;
        serde_json::from_str(&text).map_err(|e| Error::Output {
            command: format!("{} {}", self.words.join(" "), args.join(" ")),
            message: e.to_string(),
        })
    }
}
