use clap::Parser;

fn main() {
    let cli = dk::cli::Cli::parse();
    let code = dk::app::main(cli);
    std::process::exit(code);
}
