fn main() -> std::process::ExitCode {
    coachmail::cli::main()
}
