//! Process CPU time and memory from Linux `/proc`: utime+stime of
//! `/proc/PID/stat`, VmRSS and VmHWM of `/proc/PID/status`.

use std::sync::OnceLock;

/// Which process to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pid {
    /// This process (`/proc/self`).
    OwnProcess,
    /// Another process.
    Other(u32),
}

impl Pid {
    fn path(self, file: &str) -> String {
        match self {
            Pid::OwnProcess => format!("/proc/self/{file}"),
            Pid::Other(pid) => format!("/proc/{pid}/{file}"),
        }
    }
}

/// Clock ticks per second of the stat times: `getconf CLK_TCK`, asked once
/// (100 on every common Linux when it cannot be asked).
fn ticks_per_sec() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// User + system CPU seconds the process used so far.
pub fn cpu_secs(pid: Pid) -> Option<f64> {
    let stat = std::fs::read_to_string(pid.path("stat")).ok()?;
    parse_cpu_ticks(&stat).map(|ticks| ticks as f64 / ticks_per_sec())
}

/// utime + stime (fields 14 and 15) of a stat line; the command name
/// (field 2, in parentheses) may contain spaces and parentheses.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory now (VmRSS), KiB.
pub fn rss_kib(pid: Pid) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// Peak resident memory (VmHWM), KiB.
pub fn rss_peak_kib(pid: Pid) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: Pid, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(pid.path("status")).ok()?;
    parse_status_kib(&status, key)
}

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Sums over several processes; `None` if any cannot be read (or the list
/// is empty).
pub fn sum<T: std::iter::Sum<T>>(pids: &[u32], f: impl Fn(Pid) -> Option<T>) -> Option<T> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&p| f(Pid::Other(p))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        let status = "Name:\tbaton\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(20480));
        assert!(cpu_secs(Pid::OwnProcess).is_some());
        assert!(rss_kib(Pid::OwnProcess).unwrap() > 0);
        assert_eq!(sum::<u64>(&[], rss_kib), None);
    }
}
