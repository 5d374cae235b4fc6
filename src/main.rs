fn main() {
    std::process::exit(coachmail::cli::main());
}
