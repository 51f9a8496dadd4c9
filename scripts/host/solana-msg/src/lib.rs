//! `msg!` and `sol_log`, as in upstream `solana-msg` 2.2.
//!
//! On-chain this is the `sol_log_` syscall. Off-chain upstream prints to
//! stdout, which loses program logs when a program runs as a native builtin in
//! a `Bank`; here the host installs a hook (see `host-hooks`) that forwards the
//! message to the runtime's log collector.

/// Print a message to the log; a single `&str` expression is logged as is,
/// anything else goes through `format!`.
#[macro_export]
macro_rules! msg {
    ($msg:expr) => {
        $crate::sol_log($msg)
    };
    ($($arg:tt)*) => ($crate::sol_log(&format!($($arg)*)));
}

#[cfg(target_os = "solana")]
pub mod syscalls {
    //! Syscall definitions used by `solana_msg`.
    pub use solana_define_syscall::definitions::{
        sol_log_, sol_log_64_, sol_log_compute_units_, sol_log_data,
    };
}

/// Print a string to the log.
#[inline]
pub fn sol_log(message: &str) {
    #[cfg(target_os = "solana")]
    unsafe {
        syscalls::sol_log_(message.as_ptr(), message.len() as u64);
    }

    #[cfg(not(target_os = "solana"))]
    host::log(message);
}

#[cfg(not(target_os = "solana"))]
pub mod host {
    //! Where `sol_log` goes when the program is not running on SBF.
    use std::sync::OnceLock;

    /// Receives every message a program logs.
    pub type LogHook = fn(&str);

    static LOG_HOOK: OnceLock<LogHook> = OnceLock::new();

    /// Route `sol_log` to `hook` for the rest of the process. The first hook
    /// installed wins; returns whether this one was installed.
    pub fn set_log_hook(hook: LogHook) -> bool {
        LOG_HOOK.set(hook).is_ok()
    }

    pub(crate) fn log(message: &str) {
        match LOG_HOOK.get() {
            Some(hook) => hook(message),
            None => println!("{message}"),
        }
    }
}
