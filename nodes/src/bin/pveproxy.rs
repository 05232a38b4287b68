//! pveproxy: the public HTTPS API daemon (see `corral_nodes::pveproxy`).

fn main() -> std::process::ExitCode {
    let code = corral_nodes::pveproxy::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
