//! Signals around the measured command, like a shell runs a job: the command gets its own
//! process group, and SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to powerhungry are forwarded to
//! that group. powerhungry then waits for the command to exit and still writes its row, marked
//! interrupted.
//!
//! The signals (and SIGCHLD) are blocked in every thread *before* the meter starts its threads
//! and before the command is spawned, and are taken with `sigwaitinfo` while the command runs:
//! a signal that arrives at any moment — during the idle baseline, between the spawn and the
//! wait, while the row is written — is held pending, never lost, and never kills powerhungry
//! with its command left running. They stay blocked until the process exits, so a second
//! Ctrl-C cannot cut the row in half. A signal that was ignored when powerhungry started
//! (`nohup`) stays ignored, in powerhungry and in the command.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The signals forwarded to the command's process group.
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// The conventional name of a signal number (`SIGTERM`), or `signal N`.
pub fn name(sig: i32) -> String {
    let known = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGCONT, "SIGCONT"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGURG, "SIGURG"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGVTALRM, "SIGVTALRM"),
        (libc::SIGPROF, "SIGPROF"),
        (libc::SIGWINCH, "SIGWINCH"),
        (libc::SIGIO, "SIGIO"),
        (libc::SIGPWR, "SIGPWR"),
        (libc::SIGSYS, "SIGSYS"),
    ];
    known
        .iter()
        .find(|(n, _)| *n == sig)
        .map_or_else(|| format!("signal {sig}"), |(_, s)| s.to_string())
}

fn sigset(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset only sets bits of valid signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// True if `sig` was set to SIG_IGN by whoever started us (`nohup`, a non-interactive shell's
/// background job).
fn ignored(sig: libc::c_int) -> bool {
    // SAFETY: a null new action only queries the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The signals taken over by this process; see the module doc.
pub struct Forwarder {
    /// Forwarded signals that were not ignored at start.
    forwarded: Vec<libc::c_int>,
    /// `forwarded` + SIGCHLD: what the wait loop takes.
    wait_set: libc::sigset_t,
    /// Whether the command gets the terminal (we were its foreground job).
    tty_handoff: bool,
}

/// How the wait ended.
pub struct Waited {
    /// The first signal forwarded to the command, if any.
    pub interrupted_by: Option<i32>,
}

impl Forwarder {
    /// Block the signals in this thread (and so in every thread started after). Call before the
    /// meter starts its threads and before spawning.
    pub fn block() -> io::Result<Self> {
        let forwarded: Vec<libc::c_int> = FORWARDED.into_iter().filter(|s| !ignored(*s)).collect();
        let mut all = forwarded.clone();
        all.push(libc::SIGCHLD);
        // SAFETY: isatty/tcgetpgrp/getpgrp only query.
        let tty_handoff = unsafe {
            libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() && !ignored(libc::SIGTTOU)
        };
        let mut blocked = all.clone();
        if tty_handoff {
            // Taking the terminal back from the command's group must not stop us.
            blocked.push(libc::SIGTTOU);
        }
        let set = sigset(&blocked);
        // SAFETY: blocks signals in the calling thread only; no other precondition.
        let r = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        Ok(Self {
            forwarded,
            wait_set: sigset(&all),
            tty_handoff,
        })
    }

    /// A forwarded signal already pending (it came before the command started), taken.
    pub fn pending(&self) -> Option<i32> {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let set = sigset(&self.forwarded);
        // SAFETY: siginfo_t is plain data written by the call; the set is initialised.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::sigtimedwait(&set, &mut info, &zero)
        };
        (r > 0).then_some(r)
    }

    /// Make `cmd` start in its own process group, with the default signal mask, with the
    /// terminal if we had it, and killed (SIGTERM) if powerhungry itself dies (SIGKILL).
    pub fn prepare(&self, cmd: &mut Command) {
        let tty = self.tty_handoff;
        // SAFETY: getpid is async-signal-safe.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs in the forked child before exec and only makes
        // async-signal-safe calls (setpgid, sigprocmask, tcsetpgrp, prctl, getppid).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setpgid(0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                let mut empty: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut empty);
                if tty {
                    let mut ttou: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut ttou);
                    libc::sigaddset(&mut ttou, libc::SIGTTOU);
                    libc::sigprocmask(libc::SIG_SETMASK, &ttou, std::ptr::null_mut());
                    // Best effort: without the terminal the command still runs.
                    libc::tcsetpgrp(0, libc::getpid());
                }
                libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                if libc::getppid() != parent {
                    return Err(io::Error::other(
                        "powerhungry exited before the command started",
                    ));
                }
                Ok(())
            });
        }
    }

    /// Wait until `pid` has exited, forwarding each signal received to its process group, and
    /// leave it a zombie (unreaped), so the tree's final CPU times can still be read.
    pub fn wait(&self, pid: u32) -> Waited {
        let mut interrupted_by = None;
        loop {
            if exited(pid) {
                break;
            }
            // SAFETY: siginfo_t is plain data written by the call; the set is initialised.
            let sig = unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                libc::sigwaitinfo(&self.wait_set, &mut info)
            };
            if sig < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Cannot happen with a valid set; fall back to a plain blocking wait.
                wait_exited_keep_zombie(pid);
                break;
            }
            if sig == libc::SIGCHLD {
                continue;
            }
            // SAFETY: kill has no memory preconditions; the group is the child's own.
            unsafe { libc::kill(-(pid as libc::pid_t), sig) };
            eprintln!(
                "powerhungry: got {}; forwarded it to the command (process group {pid}), \
                 waiting for it to exit",
                name(sig)
            );
            interrupted_by.get_or_insert(sig);
        }
        if self.tty_handoff {
            // SAFETY: SIGTTOU is blocked, so this cannot stop us; failure leaves the terminal
            // to the (exited) group, which the shell reclaims.
            unsafe { libc::tcsetpgrp(0, libc::getpgrp()) };
        }
        Waited { interrupted_by }
    }
}

/// Has `pid` exited? (Not reaped: WNOWAIT.)
fn exited(pid: u32) -> bool {
    // SAFETY: siginfo_t is plain data; waitid only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
        )
    };
    // With WNOHANG, si_pid stays 0 while the child runs. An error (ECHILD) means there is
    // nothing left to wait for.
    // SAFETY: si_pid is valid to read for a waitid result.
    r != 0 || unsafe { info.si_pid() } != 0
}

/// Block until `pid` has exited, leaving it a zombie (waitid with WNOWAIT).
fn wait_exited_keep_zombie(pid: u32) {
    loop {
        // SAFETY: siginfo_t is plain data; waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}
