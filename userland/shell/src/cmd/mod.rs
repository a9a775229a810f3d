//! The command table: every command the shell knows, its usage line and
//! one-line description (which `help` prints), and the function that runs
//! it. Each command lives in its own small file next to this one.
//!
//! A command gets the shell's state and its arguments (the words after its
//! name) and returns `Ok(())` or a [`Failure`]; the loop in `main.rs`
//! prints a failure as `name: message` (`ls: /nope: not found`) or the usage
//! line. Nothing a user types can make a command panic: every error of a
//! service or the kernel becomes a message.

mod bench;
mod cat;
mod cd;
mod crash;
mod exit;
mod help;
mod history;
mod ipcstat;
mod kill;
mod ls;
mod mem;
mod mkdir;
mod mv;
mod ps;
mod rm;
mod run;
mod services;
mod shutdown;
mod uptime;
mod write;

use alloc::string::String;

use crate::state::Shell;

/// Why a command did not do its job.
#[derive(Debug)]
pub enum Failure {
    /// Wrong number or form of arguments: print the usage line.
    Usage,
    /// Anything else, already worded for the user (without the command's
    /// name, which the loop adds).
    Message(String),
}

/// What a command returns.
pub type Outcome = Result<(), Failure>;

/// `Failure::Message` from anything printable.
pub fn fail(message: impl core::fmt::Display) -> Failure {
    Failure::Message(alloc::format!("{message}"))
}

/// `path: error` as a failure (`ls: /nope: not found` once the loop adds
/// the name).
pub fn fail_at(path: impl core::fmt::Display, error: impl core::fmt::Display) -> Failure {
    Failure::Message(alloc::format!("{path}: {error}"))
}

/// One entry of the table.
pub struct Command {
    /// What the user types.
    pub name: &'static str,
    /// Arguments, as `help` shows them.
    pub args: &'static str,
    /// One line for `help`.
    pub about: &'static str,
    /// Runs the command with the words after its name.
    pub run: fn(&mut Shell, &[String]) -> Outcome,
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[Command] = &[
    Command { name: "help", args: "[command]", about: "list the commands, or explain one", run: help::run },
    Command { name: "ls", args: "[path]", about: "list a directory", run: ls::run },
    Command { name: "cat", args: "<file>...", about: "print files", run: cat::run },
    Command { name: "write", args: "<file> <text>...", about: "write text (and a newline) to a file", run: write::run },
    Command { name: "mkdir", args: "<dir>", about: "make a directory", run: mkdir::run },
    Command { name: "rm", args: "<path>", about: "remove a file or an empty directory", run: rm::run },
    Command { name: "mv", args: "<from> <to>", about: "rename or move a file or directory", run: mv::run },
    Command { name: "cd", args: "[dir]", about: "change the current directory (default /)", run: cd::run },
    Command { name: "pwd", args: "", about: "print the current directory", run: cd::pwd },
    Command { name: "ps", args: "", about: "list processes: pid, parent, threads, pages, state", run: ps::run },
    Command { name: "kill", args: "<pid>", about: "end a background program or a server", run: kill::run },
    Command { name: "mem", args: "", about: "physical memory: frames free and used", run: mem::run },
    Command { name: "uptime", args: "", about: "time since boot", run: uptime::run },
    Command { name: "ipcstat", args: "", about: "the kernel's IPC and scheduler counters", run: ipcstat::run },
    Command { name: "bench", args: "", about: "run the IPC benchmark (quick setting)", run: bench::run },
    Command { name: "services", args: "", about: "init's servers and their restarts", run: services::run },
    Command { name: "crash", args: "<server>", about: "kill a server to watch init restart it", run: crash::run },
    Command {
        name: "run",
        args: "<program> [args] [&]",
        about: "run a program; Ctrl-C ends it, & backgrounds it",
        run: run::run,
    },
    Command { name: "shutdown", args: "", about: "sync the file system and power off", run: shutdown::run },
    Command { name: "history", args: "", about: "earlier lines; !! !N !-N !text recall them", run: history::run },
    Command { name: "exit", args: "", about: "leave the shell", run: exit::run },
];

/// The command called `name`.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The usage line of `command`.
pub fn usage(command: &Command) -> String {
    if command.args.is_empty() {
        String::from(command.name)
    } else {
        alloc::format!("{} {}", command.name, command.args)
    }
}
