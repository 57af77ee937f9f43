fn main() {
    eprintln!("labsync: the command line is being built");
    std::process::exit(2);
}
