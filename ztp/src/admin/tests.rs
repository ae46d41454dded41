#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::*;

const SEED_DB: &str = r#"{
    "591654XK1902037": {               # serial number
        "ctrld": "ctrld.json",         # ctrld configuration file
        "image":                                   # NOS installer file "http://pkg.example/installer"
    }
}
"#;

fn setup() -> (tempfile::TempDir, ZtpDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ZtpDir::new(tmp.path().join("ztp"));
    std::fs::create_dir_all(dir.root()).unwrap();
    (tmp, dir)
}

fn source(tmp: &tempfile::TempDir, name: &str, contents: &[u8]) -> PathBuf {
    let path = tmp.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn admin_message(result: Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(ZtpError::Admin(message)) => message,
        other => panic!("not an admin error: {other:?}"),
    }
}

#[test]
fn images_are_added_listed_and_removed() {
    let (tmp, dir) = setup();
    let src = source(&tmp, "onie-installer-x86_64", b"abc");
    let info = add_image(&dir, &src, None).unwrap();
    assert_eq!(info.name, "onie-installer-x86_64");
    assert_eq!(info.size, 3);
    // SHA-1 of "abc" (FIPS 180-2, appendix A.1).
    assert_eq!(info.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    let other = add_image(&dir, &src, Some("renamed.bin")).unwrap();
    assert_eq!(other.name, "renamed.bin");
    std::fs::write(dir.images().join(".hidden"), b"x").unwrap();
    std::fs::create_dir(dir.images().join("sub")).unwrap();
    let names: Vec<String> = list_images(&dir)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["onie-installer-x86_64", "renamed.bin"]);
    assert_eq!(list_images(&dir).unwrap()[0], info);
    // A replacement is atomic and leaves no temporary file behind.
    let bigger = source(&tmp, "v2", &[7u8; 3 << 20]);
    let replaced = add_image(&dir, &bigger, Some("renamed.bin")).unwrap();
    assert_eq!(replaced.size, 3 << 20);
    assert_eq!(
        std::fs::read(dir.images().join("renamed.bin"))
            .unwrap()
            .len(),
        3 << 20
    );
    let leftovers = std::fs::read_dir(dir.images())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .count();
    assert_eq!(leftovers, 0);
    remove_image(&dir, "renamed.bin").unwrap();
    assert!(!dir.images().join("renamed.bin").exists());
    assert!(admin_message(remove_image(&dir, "renamed.bin")).contains("no image"));
}

#[test]
fn bad_names_and_sources_are_refused() {
    let (tmp, dir) = setup();
    let src = source(&tmp, "x", b"x");
    for name in ["a/b", "..", "../x", ".hidden", "", "a\\b", "a\0b"] {
        let message = admin_message(add_image(&dir, &src, Some(name)));
        assert!(
            message.contains("not a plain file name"),
            "{name:?}: {message}"
        );
        assert!(admin_message(remove_image(&dir, name)).contains("plain file name"));
    }
    assert!(matches!(
        add_image(&dir, &tmp.path().join("missing"), None),
        Err(ZtpError::Io { .. })
    ));
    assert!(admin_message(add_image(&dir, tmp.path(), Some("d"))).contains("not a file"));
    assert!(!dir.images().join("d").exists());
}

#[test]
fn configs_are_added_and_listed() {
    let (tmp, dir) = setup();
    let src = source(&tmp, "startup.json", b"{}");
    let info = add_config(&dir, &src, Some("591654XK1902037_startup.json")).unwrap();
    assert_eq!(
        std::fs::read(dir.configs().join(&info.name)).unwrap(),
        b"{}"
    );
    assert_eq!(list_configs(&dir).unwrap(), vec![info]);
    assert!(list_images(&dir).unwrap().is_empty());
}

#[test]
fn serials_are_mapped_edited_and_unmapped() {
    let (tmp, dir) = setup();
    std::fs::write(dir.config_db(), SEED_DB).unwrap();
    add_config(&dir, &source(&tmp, "s.json", b"s"), Some("s.json")).unwrap();
    add_image(&dir, &source(&tmp, "img", b"i"), Some("img.bin")).unwrap();

    let update = DeviceUpdate {
        startup: Some(Some("s.json".into())),
        image: Some(Some("images/img.bin".into())),
        mac: Some(Some("48:65:EE:11:DA:85".into())),
        ..DeviceUpdate::default()
    };
    let device = map_serial(&dir, "NEW1", &update).unwrap();
    assert_eq!(device.startup.as_deref(), Some("s.json"));
    assert_eq!(device.mac.as_deref(), Some("48:65:ee:11:da:85"));

    let devices = list_devices(&dir).unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].0, "591654XK1902037");
    assert_eq!(devices[0].1.ctrld.as_deref(), Some("ctrld.json"));
    assert_eq!(
        devices[0].1.image.as_deref(),
        Some("http://pkg.example/installer")
    );
    assert_eq!(devices[1], ("NEW1".to_string(), device));

    // Edit one key, remove another; the rest stays.
    let edit = DeviceUpdate {
        mac: Some(None),
        image: Some(Some("https://mirror/onie.bin".into())),
        ..DeviceUpdate::default()
    };
    let edited = map_serial(&dir, "NEW1", &edit).unwrap();
    assert_eq!(edited.mac, None);
    assert_eq!(edited.startup.as_deref(), Some("s.json"));
    assert_eq!(edited.image.as_deref(), Some("https://mirror/onie.bin"));

    // The file on disk is the seed's format again, without comments.
    let text = std::fs::read_to_string(dir.config_db()).unwrap();
    assert!(!text.contains('#'));
    let db = crate::config::db::parse(Path::new("config.db"), &text).unwrap();
    assert_eq!(db.devices.len(), 2);

    let removed = unmap_serial(&dir, "591654XK1902037").unwrap();
    assert_eq!(removed.ctrld.as_deref(), Some("ctrld.json"));
    assert_eq!(list_devices(&dir).unwrap().len(), 1);
    assert!(admin_message(unmap_serial(&dir, "591654XK1902037")).contains("not in"));
}

#[test]
fn mappings_are_checked() {
    let (tmp, dir) = setup();
    let missing = DeviceUpdate {
        ctrld: Some(Some("nowhere.json".into())),
        ..DeviceUpdate::default()
    };
    assert!(admin_message(map_serial(&dir, "S", &missing)).contains("does not exist"));
    let escape = DeviceUpdate {
        startup: Some(Some("../../etc/passwd".into())),
        ..DeviceUpdate::default()
    };
    let message = admin_message(map_serial(&dir, "S", &escape));
    assert!(message.contains("serial `S`, `startup`"), "{message}");
    let url = DeviceUpdate {
        image: Some(Some("gopher://x/y".into())),
        ..DeviceUpdate::default()
    };
    assert!(admin_message(map_serial(&dir, "S", &url)).contains("http, https or tftp"));
    assert!(admin_message(map_serial(&dir, "", &DeviceUpdate::default())).contains("empty"));
    assert!(
        !dir.config_db().exists(),
        "nothing written on a refused mapping"
    );

    // A file config.db names cannot be removed until it is unmapped.
    add_config(&dir, &source(&tmp, "c.json", b"c"), None).unwrap();
    add_image(&dir, &source(&tmp, "i.bin", b"i"), None).unwrap();
    let update = DeviceUpdate {
        ctrld: Some(Some("c.json".into())),
        image: Some(Some("i.bin".into())),
        ..DeviceUpdate::default()
    };
    map_serial(&dir, "S", &update).unwrap();
    assert!(admin_message(remove_config(&dir, "c.json")).contains("mapped to serial S"));
    assert!(admin_message(remove_image(&dir, "i.bin")).contains("mapped to serial S"));
    unmap_serial(&dir, "S").unwrap();
    remove_config(&dir, "c.json").unwrap();
    remove_image(&dir, "i.bin").unwrap();
}

#[test]
fn a_config_db_that_does_not_parse_is_not_overwritten() {
    let (_tmp, dir) = setup();
    std::fs::write(dir.config_db(), "{ \"S\": { \"ctrld\": 5 } }").unwrap();
    let result = map_serial(&dir, "T", &DeviceUpdate::default());
    assert!(matches!(result, Err(ZtpError::Syntax { .. })), "{result:?}");
    assert_eq!(
        std::fs::read_to_string(dir.config_db()).unwrap(),
        "{ \"S\": { \"ctrld\": 5 } }"
    );
}
