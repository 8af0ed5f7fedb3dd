//! The local stack: the three function binaries on the real local services (moto for S3/SNS/SQS/Secrets
//! Manager, a Kafka-protocol broker), with the harness playing the Lambda service (Runtime API, SNS async
//! invoke, SQS event source mappings). `topology` names the resources as the SAM template does, `provision`
//! creates them, `sources` feeds the functions, `observe` follows mails to their terminal state; `up` and `send`
//! are the two commands.

pub mod clients;
pub mod observe;
pub mod pool;
pub mod provision;
pub mod send;
pub mod sources;
pub mod topology;
pub mod up;
