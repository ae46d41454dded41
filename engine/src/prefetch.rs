//! `PrefetchExec`: runs every partition of its input in a task of its own, a couple of batches
//! ahead. A sort-preserving merge polls its inputs in turn on one thread, so without it the
//! files of a state scan are decoded one after another on that thread while the other cores
//! wait; with it they are decoded side by side while the merge runs.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

/// Batches each partition may run ahead of its consumer.
const AHEAD: usize = 2;

#[derive(Debug)]
pub(crate) struct PrefetchExec {
    input: Arc<dyn ExecutionPlan>,
}

impl PrefetchExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        PrefetchExec { input }
    }
}

impl DisplayAs for PrefetchExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PrefetchExec: ahead={AHEAD}")
    }
}

impl ExecutionPlan for PrefetchExec {
    fn name(&self) -> &str {
        "PrefetchExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(PrefetchExec::new(children.swap_remove(0))))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.input.schema(), AHEAD);
        let tx = builder.tx();
        let input = Arc::clone(&self.input);
        // The task stops at the first error, or as soon as the consumer is gone.
        builder.spawn(async move {
            let mut stream = match input.execute(partition, context) {
                Ok(stream) => stream,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return Ok(());
                }
            };
            while let Some(item) = stream.next().await {
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
            Ok(())
        });
        Ok(builder.build())
    }
}
