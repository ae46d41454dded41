//! `sonde ztp …`: ZTP served alone, and its administration (as NetQ's TIPCTL) — the images and
//! configurations of the ZTP directory, the serials of its config.db, and what the devices did.

use std::process::ExitCode;

use sonde_ztp::ZtpDir;
use sonde_ztp::admin::{self, DeviceUpdate};

use crate::cli::{ZtpAction, ZtpCommand, ZtpFilesAction, ZtpMapArgs};

pub async fn run(command: ZtpCommand) -> anyhow::Result<ExitCode> {
    match command.action {
        ZtpAction::Serve(args) => {
            let mut serve = args.serve;
            if serve.ztp.ztp.is_none() {
                anyhow::bail!("sonde ztp serve needs the ZTP directory: --ztp <dir>");
            }
            serve.int.int_addr.clear();
            crate::serve::run(serve).await
        }
        ZtpAction::Images(args) => files(&ZtpDir::new(args.dir.ztp), args.action, Kind::Image),
        ZtpAction::Configs(args) => files(&ZtpDir::new(args.dir.ztp), args.action, Kind::Config),
        ZtpAction::Map(args) => map(args),
        ZtpAction::Unmap(args) => {
            admin::unmap_serial(&ZtpDir::new(args.dir.ztp), &args.serial)?;
            println!("removed {} from config.db", args.serial);
            Ok(ExitCode::SUCCESS)
        }
        ZtpAction::Serials(args) => serials(&ZtpDir::new(args.ztp)),
        ZtpAction::Leases(args) => ask(args.query, "show ztp leases", args.json).await,
        ZtpAction::Devices(args) => ask(args.query, "show ztp devices", args.json).await,
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
            println!(
                "added {} ({} bytes, sha1 {})",
                added.name, added.size, added.sha1
            );
        }
        ZtpFilesAction::List => {
            let listed = match kind {
                Kind::Image => admin::list_images(dir)?,
                Kind::Config => admin::list_configs(dir)?,
            };
            print_files(&listed);
        }
        ZtpFilesAction::Remove { name } => {
            match kind {
                Kind::Image => admin::remove_image(dir, &name)?,
                Kind::Config => admin::remove_config(dir, &name)?,
            }
            println!("removed {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_files(files: &[admin::ImageInfo]) {
    let width = files.iter().map(|f| f.name.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:>12}  {:<40}", "Name", "Size", "SHA-1");
    for file in files {
        println!(
            "{:<width$}  {:>12}  {:<40}",
            file.name, file.size, file.sha1
        );
    }
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
    println!("mapped {} in config.db", args.serial);
    Ok(ExitCode::SUCCESS)
}

fn serials(dir: &ZtpDir) -> anyhow::Result<ExitCode> {
    let devices = admin::list_devices(dir)?;
    if devices.is_empty() {
        println!("No serials in {}", dir.config_db().display());
        return Ok(ExitCode::SUCCESS);
    }
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!(
        "{:<18} {:<24} {:<16} {:<16} {:<16} {:<18} Image",
        "Serial", "Startup", "Ctrld", "Ctrld RBAC", "Element", "MAC"
    );
    for (serial, device) in devices {
        println!(
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

async fn ask(
    query: crate::cli::QueryArgs,
    statement: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut words: Vec<String> = statement.split(' ').map(str::to_string).collect();
    if json {
        words.push("json".into());
    }
    crate::query::run(query, words).await
}
