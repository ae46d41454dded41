//! `sonde ztp …`: ZTP served alone, and its administration (as NetQ's TIPCTL) — the images and
//! configurations of the ZTP directory, the serials of its config.db, and what the devices did.

use std::process::ExitCode;

use sonde_ztp::ZtpDir;
use sonde_ztp::admin::{self, DeviceUpdate};

use crate::cli::{Global, QueryArgs, ZtpAction, ZtpCommand, ZtpFilesAction, ZtpMapArgs};
use crate::out::say;

pub async fn run(command: ZtpCommand, global: QueryArgs) -> anyhow::Result<ExitCode> {
    let editing = [
        Global::Server,
        Global::Token,
        Global::TlsCa,
        Global::Json,
        Global::Store,
    ];
    match command.action {
        ZtpAction::Serve(args) => {
            let mut serve = args.serve;
            if serve.ztp.ztp.is_none() {
                anyhow::bail!("sonde ztp serve needs the ZTP directory: --ztp <dir>");
            }
            serve.int.int_addr.clear();
            crate::serve::run(serve, global).await
        }
        ZtpAction::Leases => ask(global, "show ztp leases").await,
        ZtpAction::Devices => ask(global, "show ztp devices").await,
        action => {
            global.refuse("ztp", &editing)?;
            admin(action)
        }
    }
}

/// The commands that edit or list the ZTP directory.
fn admin(action: ZtpAction) -> anyhow::Result<ExitCode> {
    match action {
        ZtpAction::Serve(_) | ZtpAction::Leases | ZtpAction::Devices => {
            unreachable!("served and asked by `run`")
        }
        ZtpAction::Images(args) => files(&ZtpDir::new(args.dir.ztp), args.action, Kind::Image),
        ZtpAction::Configs(args) => files(&ZtpDir::new(args.dir.ztp), args.action, Kind::Config),
        ZtpAction::Map(args) => map(args),
        ZtpAction::Unmap(args) => {
            admin::unmap_serial(&ZtpDir::new(args.dir.ztp), &args.serial)?;
            say!("removed {} from config.db", args.serial);
            Ok(ExitCode::SUCCESS)
        }
        ZtpAction::Serials(args) => serials(&ZtpDir::new(args.ztp)),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Image,
    Config,
}

fn files(dir: &ZtpDir, action: ZtpFilesAction, kind: Kind) -> anyhow::Result<ExitCode> {
    match action {
        ZtpFilesAction::Add { file, name } => {
            let added = match kind {
                Kind::Image => admin::add_image(dir, &file, name.as_deref())?,
                Kind::Config => admin::add_config(dir, &file, name.as_deref())?,
            };
            say!(
                "added {} ({} bytes, sha1 {})",
                added.name,
                added.size,
                added.sha1
            );
        }
        ZtpFilesAction::List => {
            let listed = match kind {
                Kind::Image => admin::list_images(dir)?,
                Kind::Config => admin::list_configs(dir)?,
            };
            print_files(&listed)?;
        }
        ZtpFilesAction::Remove { name } => {
            match kind {
                Kind::Image => admin::remove_image(dir, &name)?,
                Kind::Config => admin::remove_config(dir, &name)?,
            }
            say!("removed {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_files(files: &[admin::ImageInfo]) -> anyhow::Result<()> {
    let width = files.iter().map(|f| f.name.len()).max().unwrap_or(4).max(4);
    say!("{:<width$}  {:>12}  {:<40}", "Name", "Size", "SHA-1");
    for file in files {
        say!(
            "{:<width$}  {:>12}  {:<40}",
            file.name,
            file.size,
            file.sha1
        );
    }
    Ok(())
}

fn map(args: ZtpMapArgs) -> anyhow::Result<ExitCode> {
    let update = DeviceUpdate {
        startup: args.startup.map(Some),
        ctrld: args.ctrld.map(Some),
        ctrldrbac: args.ctrldrbac.map(Some),
        element: args.element.map(Some),
        image: args.image.map(Some),
        mac: args.mac.map(Some),
        script: args.script.map(Some),
    };
    admin::map_serial(&ZtpDir::new(args.dir.ztp), &args.serial, &update)?;
    say!("mapped {} in config.db", args.serial);
    Ok(ExitCode::SUCCESS)
}

fn serials(dir: &ZtpDir) -> anyhow::Result<ExitCode> {
    let devices = admin::list_devices(dir)?;
    if devices.is_empty() {
        say!("No serials in {}", dir.config_db().display());
        return Ok(ExitCode::SUCCESS);
    }
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    say!(
        "{:<18} {:<24} {:<16} {:<16} {:<16} {:<18} Image",
        "Serial",
        "Startup",
        "Ctrld",
        "Ctrld RBAC",
        "Element",
        "MAC"
    );
    for (serial, device) in devices {
        say!(
            "{:<18} {:<24} {:<16} {:<16} {:<16} {:<18} {}",
            serial,
            cell(&device.startup),
            cell(&device.ctrld),
            cell(&device.ctrldrbac),
            cell(&device.element),
            cell(&device.mac),
            cell(&device.image)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn ask(global: QueryArgs, statement: &str) -> anyhow::Result<ExitCode> {
    let words: Vec<String> = statement.split(' ').map(str::to_string).collect();
    crate::query::run(global, words).await
}
