//! The interactive NetQL shell: history, tab completion of commands, families, hostnames and
//! field names, multi-line input (end a line with `\`), `help`, and errors that never end the session.

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::ExitCode;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::cli::QueryArgs;
use crate::query::{Backend, Failure, print_answer};

const HELP: &str = "\
NetQL: [hostnames] <command> [around <when> | between <when> and <when>] [json]
  check <family>            agents bgp clag evpn interfaces license lnv mtu ntp ospf sensors vlan vxlan
  show <family> [filters]   bgp interfaces lldp macs ip routes … ; add `changes` for what changed
  show changes [type <f>]   the fabric's change log (default: the last hour)
  show events [type <f>] [level <l>]
  show tables | describe <table> | explain <statement>
  select … from <table> [where c = v and …] [group by …] [order by …] [limit n]
  <when>: now, 30s 10m 10h 2d 1w, or an RFC 3339 time.  Examples:
    check bgp            spine01 check bgp around 10h        show bgp
    show changes between 11h and 9h                          check mtu json
End a line with \\ to continue it. Tab completes. `quit` or Ctrl-D leaves.
";

struct NetqlHelper {
    hostnames: Vec<String>,
}

impl Completer for NetqlHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let words = netql::complete::candidates(before, &self.hostnames, sonde_schema::ALL_TABLES);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for NetqlHelper {
    type Hint = String;
}

impl Highlighter for NetqlHelper {
    fn highlight<'l>(&self, line: &'l str, _: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for NetqlHelper {}

impl Helper for NetqlHelper {}

/// One statement: lines ending in `\\` continue on the next.
fn read_statement(
    editor: &mut Editor<NetqlHelper, rustyline::history::DefaultHistory>,
) -> rustyline::Result<String> {
    let mut statement = String::new();
    let mut prompt = "sonde> ";
    loop {
        let line = editor.readline(prompt)?;
        match line.trim_end().strip_suffix('\\') {
            Some(start) => {
                statement.push_str(start);
                statement.push(' ');
                prompt = "   ...> ";
            }
            None => {
                statement.push_str(&line);
                return Ok(statement.trim().to_string());
            }
        }
    }
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".sonde_history"))
}

pub async fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.json,
        "the REPL answers each statement as it asks: end a statement with `json` instead of --json"
    );
    let backend = Backend::connect(&args).await?;
    println!("Sonde NetQL. `help` lists the commands; Tab completes; Ctrl-D leaves.");
    session(backend, Tour::default()).await
}

/// A guided walk through a few statements: each empty line runs the next one.
#[derive(Debug, Default)]
pub struct Tour {
    /// (statement, what to look for in its answer)
    steps: Vec<(&'static str, &'static str)>,
    next: usize,
    /// Printed once the last step ran.
    closing: &'static str,
}

impl Tour {
    pub fn new(steps: Vec<(&'static str, &'static str)>, closing: &'static str) -> Tour {
        Tour {
            steps,
            next: 0,
            closing,
        }
    }

    fn next_step(&mut self) -> Option<(usize, &'static str, &'static str)> {
        let (statement, about) = *self.steps.get(self.next)?;
        self.next += 1;
        Some((self.next, statement, about))
    }
}

/// Reads statements until `quit` or end of input and answers each; an empty line runs the tour's
/// next step, if there is one.
pub async fn session(mut backend: Backend, mut tour: Tour) -> anyhow::Result<ExitCode> {
    let hostnames = backend.hostnames().await;
    let mut editor: Editor<NetqlHelper, rustyline::history::DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(NetqlHelper { hostnames }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        let mut statement = match read_statement(&mut editor) {
            Ok(statement) => statement,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error.into()),
        };
        if statement.is_empty() {
            let total = tour.steps.len();
            match tour.next_step() {
                Some((n, step, about)) => {
                    println!("\n[{n}/{total}] {about}\nsonde> {step}");
                    statement = step.to_string();
                }
                None => continue,
            }
        } else {
            let _ = editor.add_history_entry(&statement);
        }
        match statement.as_str() {
            "quit" | "exit" => break,
            "help" | "?" => {
                print!("{HELP}");
                continue;
            }
            _ => {}
        }
        match backend.ask(&statement).await {
            Ok(answer) => {
                if let Err(error) = print_answer(&answer) {
                    eprintln!("error: {error:#}");
                }
            }
            Err(Failure::Statement(message)) => eprintln!("{message}"),
            Err(Failure::Other(error)) => eprintln!("error: {error:#}"),
        }
        if tour.next == tour.steps.len() && !tour.closing.is_empty() {
            println!("\n{}", std::mem::take(&mut tour.closing));
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(ExitCode::SUCCESS)
}
