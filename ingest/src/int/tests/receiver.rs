//! The receiver over loopback: every report sent arrives in a batch, and stopping hands over
//! what the threads held.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::*;
use crate::int::{IntSockets, ReceiverConfig, ReceiverStats};

fn rows_of(batches: &[crate::int::IntBatch], table: &str) -> usize {
    batches
        .iter()
        .flat_map(|b| &b.tables)
        .filter(|(t, _)| t.name == table)
        .map(|(_, batch)| batch.num_rows())
        .sum()
}

#[test]
fn reports_sent_over_loopback_all_arrive_in_batches() {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let sockets = IntSockets::bind(&[any], 2, 4 << 20).expect("binds");
    let [address] = sockets.local_addrs()[..] else {
        panic!("one address for two sockets");
    };
    let (sink, mut batches) = mpsc::channel(1_024);
    let (stop, stopped) = watch::channel(false);
    let stats = Arc::new(ReceiverStats::default());
    let config = ReceiverConfig {
        batch_reports: 256,
        max_wait: Duration::from_millis(50),
        ..ReceiverConfig::default()
    };
    let threads = sockets
        .spawn(config, sink, stopped, Arc::clone(&stats))
        .expect("threads start");

    let sender = UdpSocket::bind("127.0.0.1:0").expect("sender");
    const SENT: u32 = 3_000;
    for sequence in 0..SENT {
        sender
            .send_to(&flow_report(sequence, 1_000), address)
            .expect("sends");
        if sequence % 500 == 0 {
            // Stay inside the receive buffer whatever the machine's load.
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    sender.send_to(&[0xF0; 40], address).expect("sends");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ReceiverStats::get(&stats.datagrams) < u64::from(SENT) + 1
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.send(true).expect("threads listen");
    for thread in threads {
        thread.join().expect("no receive thread panics");
    }
    let mut received = Vec::new();
    while let Ok(batch) = batches.try_recv() {
        received.push(batch);
    }
    assert_eq!(rows_of(&received, "int_reports"), SENT as usize);
    assert_eq!(rows_of(&received, "int_hops"), 2 * SENT as usize);
    assert_eq!(rows_of(&received, "int_errors"), 1);
    assert_eq!(ReceiverStats::get(&stats.dropped_reports), 0);
}
