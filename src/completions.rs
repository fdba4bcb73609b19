//! `dk completions bash|zsh|fish`: clap_complete's script for the command tree, plus a hook
//! that completes node names (from `dk ls --names`, run in the workspace being typed in)
//! after every verb that takes them.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell};

/// The positional arguments that name nodes.
const NAME_ARGS: [&str; 3] = ["names", "name", "target"];

/// The verbs whose positional arguments are node names.
fn verbs_taking_names() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| {
            c.get_positionals()
                .any(|a| NAME_ARGS.contains(&a.get_id().as_str()))
        })
        .map(|c| c.get_name().to_string())
        .collect()
}

pub fn script(shell: CompletionShell) -> String {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    let generator = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "dk", &mut buf);
    let generated = String::from_utf8_lossy(&buf).to_string();
    let verbs = verbs_taking_names().join(" ");
    match shell {
        CompletionShell::Bash => format!("{generated}{}", BASH_HOOK.replace("@VERBS@", &verbs)),
        CompletionShell::Zsh => zsh_with_names(&generated),
        CompletionShell::Fish => format!("{generated}{}", FISH_HOOK.replace("@VERBS@", &verbs)),
    }
}

const BASH_HOOK: &str = r#"
# Node names of the workspace (`dk ls --names`) after a verb that takes them.
_dk_with_names() {
    _dk "$@"
    local cur="${COMP_WORDS[COMP_CWORD]}" verb="" ws=() i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        case "$w" in
            -C|--workspace) ws=(-C "${COMP_WORDS[i+1]}"); ((i++)) ;;
            -*) ;;
            *) verb="$w"; break ;;
        esac
    done
    case "$cur" in -*) return ;; esac
    case " @VERBS@ " in
        *" $verb "*)
            local names
            names="$(dk "${ws[@]}" ls --names 2>/dev/null)" || return 0
            # Without the placeholders clap offers for positional arguments.
            local keep=() c
            for c in "${COMPREPLY[@]}"; do
                case "$c" in \[*|\<*) ;; *) keep+=("$c") ;; esac
            done
            COMPREPLY=("${keep[@]}")
            COMPREPLY+=($(compgen -W "$names" -- "$cur"))
            ;;
    esac
}
complete -F _dk_with_names -o nosort -o bashdefault -o default dk
"#;

const FISH_HOOK: &str = r#"
# Node names of the workspace (`dk ls --names`) after a verb that takes them.
complete -c dk -n "__fish_seen_subcommand_from @VERBS@" -f -a "(dk ls --names 2>/dev/null)"
"#;

/// clap's zsh script with the node-name arguments completed by `_dk_node_names`.
fn zsh_with_names(generated: &str) -> String {
    let mut out = String::new();
    for line in generated.lines() {
        let names_arg = NAME_ARGS.iter().any(|a| {
            let t = line.trim_start();
            t.starts_with(&format!("'*::{a} -- "))
                || t.starts_with(&format!("':{a} -- "))
                || t.starts_with(&format!("':{a}:"))
        });
        if names_arg && line.trim_end().ends_with(":_default' \\") {
            out.push_str(&line.replacen(":_default' \\", ":_dk_node_names' \\", 1));
        } else if names_arg && line.trim_end().ends_with(":_default'") {
            out.push_str(&line.replacen(":_default'", ":_dk_node_names'", 1));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    // The function must exist before compdef runs `_dk`.
    let hook = r#"
# Node names of the workspace (`dk ls --names`).
(( $+functions[_dk_node_names] )) ||
_dk_node_names() {
    local -a names
    names=(${(f)"$(dk ls --names 2>/dev/null)"})
    _describe -t names 'node' names
}
"#;
    match out.find("\n_dk() {") {
        Some(at) => {
            out.insert_str(at, hook);
            out
        }
        None => format!("{hook}{out}"),
    }
}
