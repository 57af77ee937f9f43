//! The one place an async runtime is built: by the commands, the demo, and
//! (through the test kit) the tests and the bench that drive one themselves.

use tokio::runtime::{Builder, Runtime};

/// How many threads the runtime's workers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    /// One per CPU (tokio's default): the daemon and the one-shot commands.
    PerCpu,
    /// A fixed number: the demo, and tests and the bench that run the
    /// simulators next to the engine on a small machine.
    Fixed(usize),
}

/// A multi-threaded runtime with I/O and timers enabled.
pub fn runtime(workers: Workers) -> std::io::Result<Runtime> {
    let mut builder = Builder::new_multi_thread();
    if let Workers::Fixed(n) = workers {
        builder.worker_threads(n);
    }
    builder.enable_all().build()
}
