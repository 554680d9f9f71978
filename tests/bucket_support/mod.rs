//! A real S3-compatible server for the bucket tests: moto's server (PyPI `moto[server]`),
//! started on 127.0.0.1 on a free port, stopped when dropped.

#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    client: reqwest::blocking::Client,
}

/// The Python that runs moto: `FEEDLENS_TEST_PYTHON`, else `python3`.
fn python() -> String {
    std::env::var("FEEDLENS_TEST_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Whether moto's server can run here. `.ci/run` installs it, so CI always runs the tests.
pub fn moto_available() -> bool {
    Command::new(python())
        .args(["-c", "import moto.server, werkzeug, flask"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl Moto {
    /// Starts moto's server on a free loopback port and waits until it answers; `None` (with
    /// a message on stderr) when python or moto is not installed.
    pub fn start() -> Option<Moto> {
        if !moto_available() {
            assert!(
                std::env::var_os("FEEDLENS_REQUIRE_MOTO").is_none(),
                "FEEDLENS_REQUIRE_MOTO is set but moto's server cannot run: pip install 'moto[server]'"
            );
            eprintln!(
                "SKIPPED: moto's S3 server is not installed here (pip install 'moto[server]'; .ci/run installs it)"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto's server did not answer on port {port} within a minute"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        Some(Moto {
            child,
            endpoint,
            client,
        })
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let answer = self
            .client
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .unwrap();
        assert!(answer.status().is_success(), "{:?}", answer.text());
    }

    /// Stores an object (the key's spaces and other characters are encoded here).
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let encoded: Vec<String> = key
            .split('/')
            .map(|part| {
                url::form_urlencoded::byte_serialize(part.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20")
            })
            .collect();
        let answer = self
            .client
            .put(format!("{}/{bucket}/{}", self.endpoint, encoded.join("/")))
            .body(body)
            .send()
            .unwrap();
        assert!(answer.status().is_success(), "{:?}", answer.text());
    }

    /// The environment that points feedlens's S3 client at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
        ]
    }

    /// A feedlens command with this server's environment.
    pub fn feedlens(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_feedlens"));
        for (key, value) in self.env() {
            command.env(key, value);
        }
        command
            .env_remove("AWS_PROFILE")
            .env("NO_PROXY", "127.0.0.1");
        command
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// gzip-compresses `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}
