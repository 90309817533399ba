use clap::Parser;

fn main() {
    // The launcher is memgate's own binary, re-executed for each run; it must decide
    // before anything else happens, so that it stays small.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == memgate::runner::launcher::LAUNCH_ARG)
    {
        memgate::runner::launcher::main();
    }
    // No process of the same user (a benchmark) may read memgate's environment or memory,
    // or write to its descriptors, through /proc.
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    let cli = memgate::cli::Cli::parse();
    std::process::exit(memgate::app::run(cli));
}
