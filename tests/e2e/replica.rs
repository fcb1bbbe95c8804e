//! Servers in processes of their own, on one database: replicas, and servers a test can
//! kill. A replica is this test binary started again to run only [`serve`], which
//! serves the database named in its environment until it is killed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use consortium_api::config::ServeArgs;
use consortium_api::{db, Application};
use secrecy::SecretString;

/// What the child serves: a database URL, a rate-limit budget and disclosure overrides.
const DATABASE_VAR: &str = "REPLICA_DATABASE_URL";
const POINTS_VAR: &str = "REPLICA_RATE_LIMIT_POINTS";
const OVERRIDES_VAR: &str = "REPLICA_DISCLOSURE_OVERRIDES";

/// The line the child prints, followed by its address, once it accepts requests.
const READY: &str = "replica listening on ";

/// A server process.
pub struct Replica {
    /// `http://host:port`.
    pub address: String,
    child: Child,
}

impl Replica {
    /// Starts a server process on the (migrated, filled) database at `url`, each token
    /// holding `rate_limit_points` per window; returns once it accepts requests.
    pub fn start(url: &str, rate_limit_points: i64) -> Replica {
        Self::start_with(url, rate_limit_points, crate::helpers::TRUSTED)
    }

    /// [`Replica::start`], the disclosure policies changed by `overrides`.
    pub fn start_with(url: &str, rate_limit_points: i64, overrides: &str) -> Replica {
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new(exe)
            .args(["--exact", "replica::serve", "--ignored", "--nocapture", "--test-threads", "1"])
            .env(DATABASE_VAR, url)
            .env(POINTS_VAR, rate_limit_points.to_string())
            .env(OVERRIDES_VAR, overrides)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a replica");
        let stdout = child.stdout.take().expect("the replica's stdout");
        let (ready, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading to the end, so the child never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find(READY) {
                    let _ = ready.send(line[at + READY.len()..].trim().to_owned());
                }
            }
        });
        let address = address.recv_timeout(Duration::from_secs(120)).expect("the replica starts within two minutes");
        Replica { address, child }
    }

    /// Kills the process at once (SIGKILL: no shutdown, no draining).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The replica's body; does nothing unless started by [`Replica::start`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs only as a server process started by other tests"]
async fn serve() {
    let Ok(url) = std::env::var(DATABASE_VAR) else { return };
    let points = std::env::var(POINTS_VAR).ok().and_then(|p| p.parse().ok()).unwrap_or(i64::MAX / 4);
    let db = db::connect(&SecretString::from(url)).await.expect("connect");
    let args = ServeArgs {
        bind: "127.0.0.1:0".parse().expect("address"),
        disclosure_overrides: std::env::var(OVERRIDES_VAR).expect("overrides").parse().expect("overrides"),
        rate_limit_points: points,
        // One window for the whole test: a budget test never straddles two.
        rate_limit_window_secs: 86_400,
        ..ServeArgs::default()
    };
    let app = Application::build(&args, db).await.expect("build the replica");
    println!("{READY}http://{}", app.local_addr());
    app.run_until_stopped().await.expect("serve");
}
