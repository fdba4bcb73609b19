//! `cargo xtask man [DIR]`: man pages from dk's clap tree (clap_mangen): `dk.1` and one
//! `dk-<verb>.1` per subcommand, written to DIR (default target/man).

use std::path::PathBuf;

use clap::CommandFactory;

use crate::util::root;

pub fn main(args: &[String]) {
    let dir = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/man"));
    std::fs::create_dir_all(&dir).expect("create the man directory");
    let cmd = dk::cli::Cli::command().version(env!("CARGO_PKG_VERSION"));
    let mut written = Vec::new();
    let mut write = |name: String, page: clap::Command| {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut buf)
            .expect("render a man page");
        std::fs::write(&path, buf).expect("write a man page");
        written.push(path);
    };
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("dk-{}", sub.get_name());
        write(name.clone(), sub.clone().name(name));
    }
    write("dk".into(), cmd);
    println!("wrote {} man pages to {}", written.len(), dir.display());
    println!(
        "read one: man -l {}/dk.1; install: cp {}/*.1 /usr/local/share/man/man1/",
        dir.display(),
        dir.display()
    );
}
