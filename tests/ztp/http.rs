//! curl from the client namespace (10.0.0.2): ONIE's installer waterfall, the seed's
//! configuration URLs per serial, `/ztp/image`, Range and resumed downloads, and attempts to
//! read files outside the served roots.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

static CALLS: AtomicUsize = AtomicUsize::new(0);

/// One answer as curl saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// The response headers, lower-cased names.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `curl args…` in the client namespace; the last response's status, body and headers.
pub fn curl(ztp: &Ztp, args: &[&str]) -> Reply {
    let n = CALLS.fetch_add(1, Ordering::SeqCst);
    let body = ztp.work_file(&format!("curl-{n}.body"));
    let headers = ztp.work_file(&format!("curl-{n}.headers"));
    curl_to(ztp, args, &body, &headers)
}

fn curl_to(ztp: &Ztp, args: &[&str], body: &Path, headers: &Path) -> Reply {
    let output = ztp
        .pair
        .cli_command("curl")
        .args(["-sS", "--max-time", "30", "-w", "%{http_code}"])
        .arg("-o")
        .arg(body)
        .arg("-D")
        .arg(headers)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("curl runs");
    let status = String::from_utf8_lossy(&output.stdout);
    let status: u16 = status.trim().parse().unwrap_or_else(|_| {
        panic!(
            "curl {args:?}: no status ({}): {status}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let raw = std::fs::read_to_string(headers).unwrap_or_default();
    // With -L several responses are written; keep the last one's headers.
    let last = raw
        .rsplit("\r\n\r\n")
        .find(|block| !block.trim().is_empty())
        .unwrap_or("");
    let headers = last
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        body: std::fs::read(body).unwrap_or_default(),
        headers,
    }
}

fn url(path: &str) -> String {
    format!("http://{SRV_IP}{path}")
}

/// The headers ONIE's installer fetch sends (see the reference's ONIE section).
fn onie_headers(serial: &str) -> Vec<String> {
    [
        format!("ONIE-SERIAL-NUMBER: {serial}"),
        format!("ONIE-ETH-ADDR: {LEAF01_MAC}"),
        "ONIE-VENDOR-ID: 259".to_string(),
        "ONIE-MACHINE: accton_as7712_32x".to_string(),
        "ONIE-MACHINE-REV: 0".to_string(),
        "ONIE-ARCH: x86_64".to_string(),
        "ONIE-SECURITY-KEY: d5e1f6a3c2b4".to_string(),
        "ONIE-OPERATION: os-install".to_string(),
        "ONIE-VERSION: 2019.05".to_string(),
        "User-Agent: onie/1.0 (x86_64-accton_as7712_32x-r0)".to_string(),
    ]
    .into_iter()
    .flat_map(|h| ["-H".to_string(), h])
    .collect()
}

/// CTRLD's configuration request headers.
fn ctrld_headers(serial: &str) -> Vec<String> {
    [
        format!("ONIE-SERIAL-NUMBER: {serial}"),
        "CONTAINER-NAME: rtbrick".to_string(),
        "ELEMENT-NAME: leaf01".to_string(),
        "HOST-NAME: onl-leaf01".to_string(),
    ]
    .into_iter()
    .flat_map(|h| ["-H".to_string(), h])
    .collect()
}

fn with(headers: &[String], rest: &[&str]) -> Vec<String> {
    headers
        .iter()
        .cloned()
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

fn run(ztp: &Ztp, args: Vec<String>) -> Reply {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(ztp, &args)
}

/// ONIE tries its default names, most specific first: the first two are missing, the third
/// (`onie-installer-<vendor>_<machine>`, in the directory's top level) is served.
pub fn onie_waterfall(ztp: &Ztp) {
    let headers = onie_headers(LEAF01_SERIAL);
    let names = [
        "onie-installer-x86_64-accton_as7712_32x-r0",
        "onie-installer-x86_64-accton_as7712_32x",
        "onie-installer-accton_as7712_32x",
    ];
    let expected = std::fs::read(ztp.site.path().join(names[2])).expect("the installer");
    let mut walked = Vec::new();
    for name in names {
        let reply = run(ztp, with(&headers, &[&url(&format!("/{name}"))]));
        walked.push((name, reply.status));
        if reply.status == 200 {
            assert_eq!(reply.body, expected, "{name} served another file");
            break;
        }
        assert_eq!(reply.status, 404, "{name}: {reply:?}");
    }
    assert_eq!(
        walked,
        [(names[0], 404), (names[1], 404), (names[2], 200)],
        "the waterfall"
    );
}

/// Each of the seed's URLs answers the serial's own file, a 404 where config.db names none, and
/// a 404 for serials it does not know; a serial bound to another MAC gets nothing.
pub fn configurations_per_serial(ztp: &Ztp) {
    let configs = ztp.site.path().join("configs");
    let file = |name: &str| std::fs::read(configs.join(name)).expect("a config");
    let ask = |serial: &str, kind: &str| {
        run(
            ztp,
            with(
                &ctrld_headers(serial),
                &[&url(&format!("/ztp/config/{kind}"))],
            ),
        )
    };
    let leaf01 = [
        ("startup", "591654XK1902037_startup.json"),
        ("ctrld", "ctrld.json"),
        ("ctrldrbac", "ctrldrbac.json"),
        ("element", "591654XK1902037_element.json"),
    ];
    for (kind, name) in leaf01 {
        let reply = ask(LEAF01_SERIAL, kind);
        assert_eq!(reply.status, 200, "{kind} of LEAF01: {reply:?}");
        assert_eq!(reply.body, file(name), "{kind} of LEAF01 is not {name}");
    }
    // LEAF02: its own element, nothing else.
    let element = ask(LEAF02_SERIAL, "element");
    assert_eq!(element.status, 200, "{element:?}");
    assert_eq!(element.body, file("591654XK1902038_element.json"));
    for kind in ["startup", "ctrld", "ctrldrbac"] {
        let reply = ask(LEAF02_SERIAL, kind);
        assert_eq!(
            reply.status,
            404,
            "{kind} of LEAF02 (none in config.db): {}",
            reply.text()
        );
    }
    // A serial config.db does not know, and no serial at all.
    for kind in ["startup", "ctrld", "ctrldrbac", "element"] {
        let reply = ask("NOSUCHSERIAL", kind);
        assert_eq!(
            reply.status,
            404,
            "{kind} of an unknown serial: {}",
            reply.text()
        );
        let reply = curl(ztp, &[&url(&format!("/ztp/config/{kind}"))]);
        assert_ne!(
            reply.status,
            200,
            "{kind} without a serial: {}",
            reply.text()
        );
    }
    // Bound to 02:5a:00:00:00:39 in config.db: this client holds no lease of that MAC.
    let bound = ask(BOUND_SERIAL, "startup");
    assert!(
        bound.status >= 400 && bound.body != file("591654XK1902039_startup.json"),
        "a MAC-bound serial's file served to another device: {bound:?}"
    );
}

/// `/ztp/image`: a 301 to the serial's URL (LEAF01's is elsewhere); LEAF02's names a file under
/// images/, which is served whole, by range, resumed, with its ETag.
pub fn image_redirects_and_resumes(ztp: &Ztp) {
    let leaf01 = run(
        ztp,
        with(&onie_headers(LEAF01_SERIAL), &[&url("/ztp/image")]),
    );
    assert_eq!(leaf01.status, 301, "{leaf01:?}");
    assert_eq!(
        leaf01.header("location"),
        Some(
            "http://pkg.rtbrick.net/_/images/latest/rtbrick-onl-installer/rtbrick-onl-installer-accessleaf-qmx-20.4.0-g6daily.20200409071129+Bdevelopment.Ce8ba33ec"
        ),
        "{leaf01:?}"
    );
    let image = image_bytes();
    let leaf02 = run(
        ztp,
        with(&onie_headers(LEAF02_SERIAL), &["-L", &url("/ztp/image")]),
    );
    assert_eq!(leaf02.status, 200, "{:?}", leaf02.headers);
    assert!(
        leaf02.body == image,
        "LEAF02's image is not the file ({} bytes)",
        leaf02.body.len()
    );
    let unknown = run(
        ztp,
        with(&onie_headers("NOSUCHSERIAL"), &[&url("/ztp/image")]),
    );
    assert_eq!(unknown.status, 404, "{unknown:?}");

    // Whole, with its length and ETag; If-None-Match answers 304.
    let path = url(&format!("/images/{IMAGE}"));
    let whole = curl(ztp, &[&path]);
    assert_eq!(whole.status, 200);
    assert!(whole.body == image, "the image served is not the file");
    assert_eq!(
        whole.header("content-length"),
        Some(IMAGE_LEN.to_string().as_str())
    );
    let etag = whole.header("etag").expect("an ETag").to_string();
    let cached = curl(ztp, &["-H", &format!("If-None-Match: {etag}"), &path]);
    assert_eq!(cached.status, 304, "{cached:?}");
    assert!(cached.body.is_empty());

    // Ranges: from an offset to the end, and a closed one.
    let tail = curl(ztp, &["-r", "1000-", &path]);
    assert_eq!(tail.status, 206, "{tail:?}");
    assert!(tail.body == image[1000..], "bytes 1000- are not the file's");
    let span = curl(ztp, &["-r", "0-99", &path]);
    assert_eq!(span.status, 206);
    assert_eq!(span.body, image[..100]);
    assert_eq!(
        span.header("content-range"),
        Some(format!("bytes 0-99/{IMAGE_LEN}").as_str())
    );

    // A download cut at 700000 bytes, resumed with `-C -`: byte-exact.
    let partial = ztp.work_file("resumed.bin");
    std::fs::write(&partial, &image[..700_000]).expect("writes the partial download");
    let headers = ztp.work_file("resumed.headers");
    let resumed = curl_to(ztp, &["-C", "-", &path], &partial, &headers);
    assert_eq!(resumed.status, 206, "{:?}", resumed.headers);
    assert!(
        resumed.body == image,
        "the resumed download differs from the image ({} bytes)",
        resumed.body.len()
    );
}

/// No path, header or symlink reaches a file outside the served roots: never the file, always
/// a 4xx.
pub fn traversal_never_escapes(ztp: &Ztp) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let marker = passwd.lines().next().unwrap_or("root:").to_string();
    let refused = |what: &str, reply: &Reply| {
        assert!(
            (400..500).contains(&reply.status),
            "{what}: status {} (expected 400, 403 or 404): {}",
            reply.status,
            reply.text()
        );
        assert!(
            marker.is_empty() || !reply.text().contains(&marker),
            "{what}: /etc/passwd was served"
        );
    };
    let paths = [
        "/images/../../../../../../etc/passwd",
        "/images/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/images/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/images/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/images/..%5c..%5c..%5cetc%5cpasswd",
        "//etc/passwd",
        "/images//etc/passwd",
        "/images/%2fetc%2fpasswd",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/ztp/config/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/ztp/config/../../../../etc/passwd",
        "/images/passwd-link",
        "/images/etc-link/passwd",
        "/onie-installer-x86_64",
        "/images/%00../../etc/passwd",
        "/images/leaf02-installer.bin/../../../../etc/passwd",
    ];
    for path in paths {
        let reply = curl(ztp, &["--path-as-is", &url(path)]);
        refused(path, &reply);
    }
    // The ZTP directory's own files are not served either.
    for path in ["/dhcpd.conf", "/config.db", "/configs/ctrld.json"] {
        let reply = curl(ztp, &[&url(path)]);
        assert_ne!(reply.status, 200, "{path} was served: {}", reply.text());
    }
    // Header-borne: the serial names a path.
    for serial in [
        "../../etc/passwd",
        "../../../../../../etc/passwd",
        "/etc/passwd",
        "..%2f..%2fetc%2fpasswd",
    ] {
        for kind in ["startup", "ctrld", "element", "ctrldrbac"] {
            let reply = run(
                ztp,
                with(
                    &ctrld_headers(serial),
                    &[&url(&format!("/ztp/config/{kind}"))],
                ),
            );
            refused(&format!("{kind} with serial {serial}"), &reply);
        }
        let reply = run(ztp, with(&onie_headers(serial), &[&url("/ztp/image")]));
        refused(&format!("image with serial {serial}"), &reply);
    }
}
