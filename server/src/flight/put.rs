//! DoPut: the batches of a stream appended to the table its path descriptor names, each
//! acknowledged once it is durable.

use arrow_flight::FlightData;
use arrow_flight::PutResult;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use futures::StreamExt;
use futures::stream::{BoxStream, FuturesOrdered};
use sonde_engine::{Engine, Origin};
use sonde_schema::TableDef;
use tokio::sync::mpsc;
use tonic::Status;

use super::status;

/// Batches of one DoPut stream waiting for their fsync at once.
pub const PUTS_IN_FLIGHT: usize = 32;

/// Appends every batch of a DoPut stream, keeping up to `PUTS_IN_FLIGHT` waiting for their fsync,
/// and answers each with a `PutResult` in order. On a bad batch the acks of the batches before it
/// are still sent, then the error.
pub async fn append_stream(
    engine: Engine,
    table: &'static TableDef,
    data: BoxStream<'static, Result<FlightData, FlightError>>,
    tx: mpsc::Sender<Result<PutResult, Status>>,
) {
    let mut messages = FlightDataDecoder::new(data);
    let mut in_flight = FuturesOrdered::new();
    let mut failure = None;
    loop {
        tokio::select! {
            biased;
            Some((origin, done)) = in_flight.next(), if !in_flight.is_empty() => {
                if !send_ack(&tx, table, origin, done).await {
                    return;
                }
            }
            next = messages.next(), if in_flight.len() < PUTS_IN_FLIGHT && failure.is_none() => match next {
                None => break,
                Some(Ok(message)) => {
                    let DecodedPayload::RecordBatch(batch) = message.payload else {
                        continue;
                    };
                    match origin_of(&message.inner.app_metadata) {
                        Ok(origin) => {
                            engine.backpressure().await;
                            match engine.submit_from(table.name, &batch, origin.clone()) {
                                Ok(ack) => in_flight.push_back(async move { (origin, ack.await) }),
                                Err(e) => failure = Some(status(e)),
                            }
                        }
                        Err(e) => failure = Some(e),
                    }
                }
                Some(Err(e)) => failure = Some(Status::invalid_argument(format!("cannot decode the batch: {e}"))),
            },
            else => break,
        }
        if failure.is_some() && in_flight.is_empty() {
            break;
        }
    }
    while let Some((origin, done)) = in_flight.next().await {
        if !send_ack(&tx, table, origin, done).await {
            return;
        }
    }
    if let Some(failure) = failure {
        let _ = tx.send(Err(failure)).await;
    }
}

/// The origin a batch's app_metadata names, if any.
fn origin_of(metadata: &[u8]) -> Result<Option<Origin>, Status> {
    if metadata.is_empty() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Numbered {
        source: String,
        seq: u64,
    }
    let numbered: Numbered = serde_json::from_slice(metadata).map_err(|e| {
        Status::invalid_argument(format!(
            "app_metadata must be {{\"source\": name, \"seq\": n}}: {e}"
        ))
    })?;
    if numbered.source.is_empty() || numbered.source.len() > 256 {
        return Err(Status::invalid_argument(
            "the source name must have 1 to 256 bytes",
        ));
    }
    Ok(Some(Origin {
        source: numbered.source.into(),
        seq: numbered.seq,
    }))
}

async fn send_ack(
    tx: &mpsc::Sender<Result<PutResult, Status>>,
    table: &TableDef,
    origin: Option<Origin>,
    done: sonde_engine::Result<usize>,
) -> bool {
    let message = done.map(|rows| {
        let mut ack = serde_json::json!({"table": table.name, "rows": rows});
        if let Some(origin) = origin {
            ack["source"] = origin.source.as_ref().into();
            ack["seq"] = origin.seq.into();
        }
        PutResult {
            app_metadata: ack.to_string().into(),
        }
    });
    let failed = message.is_err();
    let sent = tx.send(message.map_err(status)).await.is_ok();
    sent && !failed
}
