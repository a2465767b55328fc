// bench/peers/rust/src/bin/tokio_echo.rs: the echo server of the echo race on
// tokio 1.24.2, the way tokio's own echo example writes it: one task per
// connection, `read` then `write_all`, 4 KiB buffer, TCP_NODELAY.
//
// Usage: tokio_echo --flavor current|multi [--threads N] [--port P]
//   current: Builder::new_current_thread() (one thread, like pollwake's LocalRuntime)
//   multi:   Builder::new_multi_thread().worker_threads(N)
// Prints "listening on 127.0.0.1:<port>" when ready; serves until killed.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = [0u8; 4096];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if s.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn run(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    println!("listening on {}", listener.local_addr().unwrap());
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    loop {
        match listener.accept().await {
            Ok((s, _)) => {
                tokio::spawn(serve(s));
            }
            Err(e) => eprintln!("accept: {}", e),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut flavor = "current".to_string();
    let mut threads = 2usize;
    let mut port = 0u16;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--flavor" => { flavor = args[i + 1].clone(); i += 1; }
            "--threads" => { threads = args[i + 1].parse().expect("--threads N"); i += 1; }
            "--port" => { port = args[i + 1].parse().expect("--port P"); i += 1; }
            other => panic!("unknown argument {}", other),
        }
        i += 1;
    }
    let rt = match flavor.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_io().build(),
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_io()
            .build(),
        f => panic!("unknown flavor {}", f),
    }
    .expect("runtime");
    rt.block_on(run(port));
}
