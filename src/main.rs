//! The `lambdasim` command: parse the command line, run the library, map errors to exit codes
//! (2 for anything the user can fix, 1 for internal errors).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match lambdasim::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with status 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match lambdasim::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): what it wanted it has; end quietly.
        Err(lambdasim::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // A closed or full stderr must not turn an error into a panic: the exit status
            // still says what happened.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
