//! Several execution environments of one function, as Lambda runs concurrent invocations: each invocation takes
//! a free sandbox and returns it afterwards.

use crate::local::lambda::{InvokeError, LambdaFunction};
use serde_json::Value;
use tokio::sync::{mpsc, Mutex};

/// A pool of sandboxes of one function.
pub struct Pool {
    free_tx: mpsc::UnboundedSender<LambdaFunction>,
    free_rx: Mutex<mpsc::UnboundedReceiver<LambdaFunction>>,
    size: usize,
}

impl Pool {
    /// A pool over started sandboxes.
    pub fn new(sandboxes: Vec<LambdaFunction>) -> Self {
        let (free_tx, free_rx) = mpsc::unbounded_channel();
        let size = sandboxes.len();
        for s in sandboxes {
            free_tx.send(s).ok();
        }
        Self { free_tx, free_rx: Mutex::new(free_rx), size }
    }

    /// Invokes on the next free sandbox (waiting for one when all are busy).
    pub async fn invoke(&self, payload: Value) -> Result<Value, InvokeError> {
        let sandbox = self.free_rx.lock().await.recv().await;
        let Some(sandbox) = sandbox else {
            return Err(InvokeError::Init("the function's sandboxes are stopped".into()));
        };
        let result = sandbox.invoke(payload).await;
        self.free_tx.send(sandbox).ok();
        result
    }

    /// Stops every sandbox (waits for running invocations to return theirs).
    pub async fn stop(self) {
        let mut rx = self.free_rx.into_inner();
        for _ in 0..self.size {
            match rx.recv().await {
                Some(s) => s.stop().await,
                None => break,
            }
        }
    }
}
