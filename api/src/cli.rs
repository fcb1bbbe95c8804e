//! The command line: each subcommand wires configuration to the library.

use anyhow::Context;
use secrecy::SecretString;

use crate::config::{masked, Cli, Command, DemoArgs, ServeArgs};
use crate::startup::Application;
use crate::{db, demo, graphql};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            let db = db::connect(&cli.database_url).await?;
            db::migrate(&db).await?;
            println!("{} is migrated", masked(&cli.database_url));
            Ok(())
        }
        Command::Serve(args) => serve(&cli.database_url, &args).await,
        Command::Demo(args) => run_demo(&cli.database_url, &args).await,
    }
}

async fn serve(url: &SecretString, args: &ServeArgs) -> anyhow::Result<()> {
    let db = db::connect(url).await?;
    db::ensure_migrated(&db, url).await?;
    let app = Application::build(args, db).await?;
    app.run_until_stopped().await.context("server failed")
}

async fn run_demo(url: &SecretString, args: &DemoArgs) -> anyhow::Result<()> {
    let db = db::connect(url).await?;
    db::migrate(&db).await?;
    if demo::is_empty(&db).await? {
        let spec = demo::DemoSpec { seed: args.seed, patients: args.patients };
        let started = std::time::Instant::now();
        let consortium = demo::generate(&spec)?;
        let report = demo::store(&db, &consortium).await?;
        println!(
            "generated a synthetic consortium: {} patients, {} rows, seed {}, data version {} ({:.1} s)",
            spec.patients,
            report.rows,
            spec.seed,
            report.data_version,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("{} already holds a consortium; serving it as it is", masked(url));
    }
    if args.no_serve {
        return Ok(());
    }
    let app = Application::build(&args.serve, db).await?;
    println!("GraphiQL: http://{}/graphql", app.local_addr());
    app.run_until_stopped().await.context("server failed")
}
