//! pvedaemon: the privileged API daemon (see `corral_nodes::pvedaemon`).

fn main() -> std::process::ExitCode {
    let code = corral_nodes::pvedaemon::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
