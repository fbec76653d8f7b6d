// The syslog facility names Heartbeat (ha.cf `logfacility`, cluster-glue's
// cl_syslogfac_str2int) and ldirectord (a `logfile` that is not a path, given
// to Sys::Syslog's openlog) accept, with their numbers (LOG_* >> 3).

/** Facility name → facility number (the PRI of a syslog message is facility * 8 + severity). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  /** cluster-glue's deprecated alias of auth */
  security: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/**
 * The facility number of a name as written (`local0`, `DAEMON`, Perl's
 * `LOG_LOCAL0`), or undefined when it names none.
 */
export function syslogFacility(name: string): number | undefined {
  const n = name.toLowerCase().replace(/^log_/, '');
  return Object.hasOwn(SYSLOG_FACILITIES, n) ? SYSLOG_FACILITIES[n] : undefined;
}
