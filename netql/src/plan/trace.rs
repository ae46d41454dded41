//! `trace <ip|mac|hostname> from <hostname|ip> [vrf V] [vlan N] [detail] [bidir]`: the state
//! reads a walk needs (see [`crate::trace`]), all at the statement's instant, and the INT hops of
//! the traced flow in the minutes before it.

use std::sync::Arc;

use datafusion::logical_expr::{LogicalPlanBuilder, col, lit};

use crate::answer::AnswerKind;
use crate::ast::{Query, Trace, Value, ValueKind};
use crate::error::{Error, Result};
use crate::trace::{Endpoint, Request, STATE_TABLES, TraceInputs};

use super::{Planned, Planner, Window};

/// How far back INT reports count as what the flow does now.
const OBSERVED_WINDOW_US: i64 = 15 * 60 * 1_000_000;

impl Planner<'_> {
    pub(super) fn plan_trace(&self, query: &Query, trace: &Trace) -> Result<Planned> {
        let at = self.state_time(query);
        let request = Request {
            destination: endpoint(&trace.destination)?,
            source: endpoint(&trace.source)?,
            vrf: trace.vrf.as_ref().map(|v| v.to_string()),
            vlan: trace
                .vlan
                .as_ref()
                .map(|n| u32::try_from(n.value).unwrap_or(0)),
            bidir: trace.bidir,
            source_span: trace.source.span,
            destination_span: trace.destination.span,
        };
        let mut state = Vec::new();
        for (table, columns) in STATE_TABLES {
            if self.table(table).is_some() {
                let read = std::iter::once(sonde_schema::HOSTNAME)
                    .chain(columns.iter().copied())
                    .map(col);
                let plan = LogicalPlanBuilder::from(self.catalog.state_at(table, at)?)
                    .project(read)?
                    .build()?;
                state.push((*table, plan));
            }
        }
        let observed = match self.table("int_hops") {
            Some(_) => Some(self.observed(&request, at)?),
            None => None,
        };
        let inputs = TraceInputs {
            request,
            state,
            observed,
        };
        Ok(Planned {
            walk: Some(Arc::new(inputs)),
            plan: rows_announced()?,
            kind: AnswerKind::Trace {
                detail: trace.detail,
            },
        })
    }

    /// The INT hop rows in the window before `at`, of the flow when its addresses are known.
    fn observed(
        &self,
        request: &Request,
        at: i64,
    ) -> Result<datafusion::logical_expr::LogicalPlan> {
        let window = Window {
            from: at.saturating_sub(OBSERVED_WINDOW_US),
            to: at,
        };
        let mut hops = self.events("int_hops", window)?;
        if let Endpoint::Ip(ip) = &request.destination {
            hops = hops.filter(col("dst_ip").eq(lit(ip.to_string())))?;
        }
        if let Endpoint::Ip(ip) = &request.source {
            hops = hops.filter(col("src_ip").eq(lit(ip.to_string())))?;
        }
        Ok(hops.build()?)
    }
}

/// A plan of no rows with the schema of the hops the walk answers, so that a client asking for
/// the schema first (Flight's GetFlightInfo) learns it without a walk.
fn rows_announced() -> Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::common::ScalarValue;
    let nulls = crate::trace::schema()
        .fields()
        .iter()
        .map(|f| {
            let null = ScalarValue::try_from(f.data_type()).unwrap_or(ScalarValue::Null);
            datafusion::logical_expr::Expr::Literal(null, None).alias(f.name())
        })
        .collect::<Vec<_>>();
    Ok(LogicalPlanBuilder::empty(false).project(nulls)?.build()?)
}

fn endpoint(value: &Value) -> Result<Endpoint> {
    Ok(match &value.kind {
        ValueKind::Ip(ip) => Endpoint::Ip(*ip),
        // A MAC prints as the tables write it: lower-case hex, colon-separated.
        ValueKind::Mac(_) => Endpoint::Mac(value.to_string()),
        ValueKind::Word(name) => Endpoint::Host(name.clone()),
        _ => {
            return Err(Error::plan(
                value.span,
                "a trace goes to or from an IP or MAC address or a hostname",
            ));
        }
    })
}
