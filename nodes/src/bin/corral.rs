//! corral: the development tool (see `corral_nodes::corral`).

fn main() -> std::process::ExitCode {
    let code = corral_nodes::corral::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
