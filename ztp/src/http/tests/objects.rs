//! Images in an object store (a local `object_store` backend here; the S3 protocol itself is
//! exercised against an S3 server by the integration tests): looked up after `images/`,
//! answered with the object's validators and ranges, streamed in pieces, and never answered
//! with a stale head when the object changed under the catalogue.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::socket::{Running, get, start_server};
use super::{Fixture, column, fixture, image_bytes, text};
use crate::http::ImageObjects;
use crate::http::objects::PIECE;

/// Crosses two piece boundaries, and is not a whole number of pieces.
fn stored_bytes() -> Vec<u8> {
    let len = usize::try_from(2 * PIECE + 12_345).unwrap();
    (0..len).map(|i| (i * 13 + i / 4093) as u8).collect()
}

struct Stored {
    running: Running,
    store: Arc<dyn ObjectStore>,
    objects: Arc<ImageObjects>,
    _root: tempfile::TempDir,
}

async fn start() -> Stored {
    let root = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(root.path()).unwrap());
    put(&store, "sonic-stored.bin", stored_bytes()).await;
    put(&store, "onl-installer.bin", b"the store's copy".to_vec()).await;
    put(
        &store,
        "onie-installer-x86_64-acme.bin",
        b"acme installer".to_vec(),
    )
    .await;
    let objects = ImageObjects::open(
        Arc::clone(&store),
        "s3://images/onie",
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let Fixture {
        dir,
        server,
        events,
    } = fixture();
    let server = server.with_images(objects);
    let objects = Arc::clone(server.objects().unwrap());
    Stored {
        running: start_server(server, dir, events).await,
        store,
        objects,
        _root: root,
    }
}

async fn put(store: &Arc<dyn ObjectStore>, name: &str, bytes: Vec<u8>) {
    store
        .put(&Path::from(name), PutPayload::from(bytes))
        .await
        .unwrap();
}

#[tokio::test]
async fn store_images_are_served_whole_and_by_range() {
    let mut stored = start().await;
    let image = stored_bytes();
    let mut wire = stored.running.connect().await;
    wire.send(&get("/images/sonic-stored.bin", "")).await;
    let whole = wire.answer(false).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, image);
    assert_eq!(whole.get("accept-ranges"), Some("bytes"));
    let event = stored.running.event().await;
    assert_eq!(
        text(column(&event, "file")),
        "s3://images/onie/sonic-stored.bin"
    );
    assert_eq!(
        column(&event, "bytes"),
        &sonde_schema::row::Value::U64(image.len() as u64)
    );
    let len = image.len();
    let piece = usize::try_from(PIECE).unwrap();
    for (first, last) in [
        (0, 0),
        (piece - 1, piece),
        (piece + 7, len - 1),
        (len - 10, len - 1),
    ] {
        let range = format!("Range: bytes={first}-{last}\r\n");
        wire.send(&get("/images/sonic-stored.bin", &range)).await;
        let answer = wire.answer(false).await;
        assert_eq!(answer.status, 206, "{range}");
        assert_eq!(answer.body, &image[first..=last], "{range}");
        let expected = format!("bytes {first}-{last}/{len}");
        assert_eq!(answer.get("content-range"), Some(expected.as_str()));
    }
    let etag = whole.get("etag").unwrap().to_string();
    let conditional = format!("If-None-Match: {etag}\r\n");
    wire.send(&get("/images/sonic-stored.bin", &conditional))
        .await;
    assert_eq!(wire.answer(false).await.status, 304);
    wire.send(b"HEAD /images/sonic-stored.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = wire.answer(true).await;
    assert_eq!(head.get("content-length"), Some(len.to_string().as_str()));
    stored.running.stop().await;
}

#[tokio::test]
async fn images_dir_comes_before_the_store_and_serials_reach_the_store() {
    let stored = start().await;
    let mut wire = stored.running.connect().await;
    wire.send(&get("/images/onl-installer.bin", "")).await;
    assert_eq!(wire.answer(false).await.body, image_bytes());
    // SERIAL-S's image is this server's /images/ URL, held only by the store.
    let serial = "ONIE-SERIAL-NUMBER: SERIAL-S\r\nHost: 10.0.0.1\r\n";
    wire.send(format!("GET /ztp/image HTTP/1.1\r\n{serial}\r\n").as_bytes())
        .await;
    let image = wire.answer(false).await;
    assert_eq!(
        (image.status, image.body.len()),
        (200, stored_bytes().len())
    );
    // ONIE's waterfall: images/ has no such name, the store has.
    wire.send(&get("/onie-installer-x86_64-acme.bin", "")).await;
    assert_eq!(wire.answer(false).await.body, b"acme installer");
    wire.send(&get("/onie-installer-x86_64-other.bin", ""))
        .await;
    assert_eq!(wire.answer(false).await.status, 404);
    for name in ["../sonic-stored.bin", "a//b", "%2e%2e/x"] {
        wire.send(&get(&format!("/images/{name}"), "")).await;
        assert_ne!(wire.answer(false).await.status, 200, "{name}");
    }
    stored.running.stop().await;
}

#[tokio::test]
async fn an_object_changed_under_the_catalogue_is_not_answered_with_its_old_head() {
    let stored = start().await;
    let mut wire = stored.running.connect().await;
    put(&stored.store, "sonic-stored.bin", b"shorter now".to_vec()).await;
    wire.send(&get("/images/sonic-stored.bin", "")).await;
    let answer = wire.answer(false).await;
    assert_eq!(answer.status, 404, "the catalogue's length no longer holds");
    assert!(wire.closed().await);
    // The miss listed the store again: the new object is served as it is now.
    assert_eq!(stored.objects.get("sonic-stored.bin").unwrap().len, 11);
    let mut wire = stored.running.connect().await;
    wire.send(&get("/images/sonic-stored.bin", "")).await;
    assert_eq!(wire.answer(false).await.body, b"shorter now");
    stored
        .store
        .delete(&Path::from("sonic-stored.bin"))
        .await
        .unwrap();
    wire.send(&get("/images/sonic-stored.bin", "")).await;
    assert_eq!(wire.answer(false).await.status, 404);
    assert!(wire.closed().await);
    assert!(stored.objects.get("sonic-stored.bin").is_none());
    stored.running.stop().await;
}

#[tokio::test]
async fn an_unreachable_store_is_an_error_at_start() {
    // Nothing listens on the endpoint; no retries, so the refusal is quick.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let retry = object_store::RetryConfig {
        max_retries: 0,
        ..object_store::RetryConfig::default()
    };
    let store: Arc<dyn ObjectStore> = Arc::new(
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name("gone")
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_retry(retry)
            .build()
            .unwrap(),
    );
    let error = ImageObjects::open(store, "s3://gone", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("s3://gone"), "{error}");
}
