//! `shell`: the interactive shell on the serial console.
//!
//! init starts it once the servers are up. It prints a prompt, reads a line
//! from the console server (`svc/console.rs`: edited by the console, or
//! raw and edited here with history on Up/Down), expands a `!` recall from
//! the history (`shell::history`), splits it into words (`shell::line`) and
//! runs the command named by the first word (`cmd/`, one file per command).
//! Output goes through `println!`, which libipc sends to the console.
//!
//! Every failure is a message: a bad argument, a missing file or a dead
//! server prints `command: what went wrong` and the prompt comes back. The
//! shell ends on `exit` or Ctrl-D at an empty prompt.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod child;
mod cmd;
mod foreground;
mod jobs;
mod state;
mod svc;

use alloc::string::String;

use libipc::{println, Args};
use shell::line;

use crate::cmd::Failure;
use crate::jobs::Jobs;
use crate::state::Shell;
use crate::svc::{Console, Fs, Init, Line};

libipc::main!(main);

/// What the shell prints before each line.
const PROMPT: &str = "$ ";
/// Console errors in a row after which the shell gives up (the console is
/// gone for good; init will restart both).
const MAX_CONSOLE_ERRORS: u32 = 20;

fn main(args: Args) -> i32 {
    let raw = if args.contains("raw") {
        true
    } else if args.contains("cooked") {
        false
    } else {
        svc::RAW_BY_DEFAULT
    };
    let mut sh = Shell {
        cwd: String::from("/"),
        console: Console::new(raw),
        fs: Fs::new(),
        init: Init::new(),
        jobs: Jobs::default(),
        done: false,
    };
    println!("shell: type `help` for the commands");
    let mut errors = 0;
    while !sh.done {
        // After a failed read (the console died and is being restarted) the
        // prompt is already on the screen: read again without a new one.
        let prompt = if errors == 0 { PROMPT } else { "" };
        match sh.console.read_line(prompt) {
            Ok(Line::Text(text)) => {
                errors = 0;
                let line = match sh.console.history().expand(&text) {
                    Ok(None) => text,
                    Ok(Some(expanded)) => {
                        println!("{expanded}");
                        expanded
                    }
                    Err(e) => {
                        println!("shell: {e}");
                        continue;
                    }
                };
                sh.console.remember(&line);
                execute(&mut sh, &line);
            }
            Ok(Line::Interrupted) => errors = 0,
            Ok(Line::End) => break,
            Err(e) => {
                errors += 1;
                if errors >= MAX_CONSOLE_ERRORS {
                    println!("shell: console: {e}; giving up");
                    return 1;
                }
                libipc::sleep(core::time::Duration::from_millis(100));
            }
        }
    }
    0
}

/// Runs one command line.
fn execute(sh: &mut Shell, text: &str) {
    let words = match line::split(text) {
        Ok(words) => words,
        Err(e) => {
            println!("shell: {}", e.as_str());
            return;
        }
    };
    let Some((name, args)) = words.split_first() else {
        return;
    };
    let Some(command) = cmd::find(name) else {
        println!("{name}: command not found (try help)");
        return;
    };
    match (command.run)(sh, args) {
        Ok(()) => {}
        Err(Failure::Usage) => println!("usage: {}", cmd::usage(command)),
        Err(Failure::Message(m)) => println!("{name}: {m}"),
    }
}
