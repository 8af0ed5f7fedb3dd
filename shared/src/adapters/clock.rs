//! The invocation deadline on tokio's clock.

use crate::pipeline::ports::Deadline;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// A deadline `budget` from now (see `handlers::work_budget`), on tokio's clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioDeadline(Instant);

impl TokioDeadline {
    /// The deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }
}

impl Deadline for TokioDeadline {
    fn passed(&self) -> bool {
        Instant::now() >= self.0
    }
    fn reached(&self) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(self.0)
    }
}
