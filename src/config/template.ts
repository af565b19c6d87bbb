// The commented configuration file `sealpost init` writes. Every key of the schema
// appears here with its default and a line on what it does, so the file documents
// itself; the test in config.test.ts checks the template parses to a valid Config.

export interface TemplateValues {
  readonly hostname: string;
  readonly dataDir: string;
  readonly mxHost: string;
  readonly mxPort: number;
  /** IMAP and POP3 listen on mxHost too; implicit-TLS ports. */
  readonly imapPort: number;
  readonly pop3Port: number;
  /** HTTPS port of the web role (443), on mxHost. */
  readonly webPort?: number;
  /** Submission: implicit TLS (465) and STARTTLS (587, 0 = closed), on mxHost. */
  readonly submissionPort?: number;
  readonly submissionStarttlsPort?: number;
}

export function renderConfig(v: TemplateValues): string {
  const q = (s: string) => JSON.stringify(s);
  return `# Sealpost configuration (TOML). Written by \`sealpost init\`; edit freely.
# Every key can also be set from the environment: SEALPOST_<SECTION>_<KEY>,
# e.g. SEALPOST_MX_PORT=2525 or SEALPOST_DNS_SERVERS=127.0.0.1:53,[::1]:53.
# Sizes are bytes or strings such as "25MiB"; relative paths are relative to data_dir.

# The name this server is known by: SMTP greeting, Received and
# Authentication-Results headers. Use the host name your MX record points to.
hostname = ${q(v.hostname)}

# Where the database, the encrypted message blobs, the keys and the certificates live.
# Relative to this file's directory.
data_dir = ${q(v.dataDir)}

# Worker processes that serve connections: 1 serves everything from one process;
# 0 starts one per CPU core. With several, a supervising process owns the listening
# sockets, applies the per-address connection limits for the whole node and hands
# each connection to the least busy worker. With the embedded SQLite store keep 1:
# a write by one process makes the others reload their page caches, which costs
# more than a second core gains (bench/smtp-ingest.ts on 2 cores: 252 msg/s with
# 1 worker, 212 with 2).
workers = 1

[keys]
# The master key file (mode 0600; Sealpost refuses one that others can read).
# It wraps every account's keys: without it the data directory is ciphertext.
# Back it up separately from the data. SEALPOST_MASTER_KEY may supply it instead.
master_key_file = "master.key"

[tls]
# Certificate chain and private key (PEM). Reloaded automatically when the files
# change (e.g. after ACME renewal). \`sealpost init\` writes a self-signed
# development certificate here when none exists.
cert_file = "tls/cert.pem"
key_file = "tls/key.pem"

[mx]
# Inbound SMTP from the internet (the \`mx\` role). Never offers AUTH.
enabled = true
host = ${q(v.mxHost)}
port = ${v.mxPort}
# Largest message accepted (advertised with SIZE, RFC 1870).
max_message_size = "25MiB"
# Recipients per message (RFC 5321 §4.5.3.1.8 requires at least 100).
max_recipients = 100
max_connections = 1000
max_connections_per_address = 50
# Longest command or text line in octets, CRLF included (RFC 5321 §4.5.3.1.6: at least 1000).
max_line_length = 4096
# Header block limits: larger or longer header sections are refused (header bombs).
max_header_size = "256KiB"
max_header_lines = 1000
# Idle time allowed per command (RFC 5321 §4.5.3.2 suggests 5 minutes).
socket_timeout_seconds = 300
# Delay before the greeting, refusing clients that talk first (RFC 5321 §4.3.1).
# 0 greets at once; a real pregreet test needs several seconds.
greet_pause_ms = 0
# Verify SPF, DKIM, DMARC and ARC and add an Authentication-Results header.
verify = true
# Threads that verify and parse messages beside the main thread: "auto" uses one
# per spare CPU core, 0 does the work on the main thread.
analysis_threads = "auto"
# What to do with mail failing DMARC from a domain with p=reject:
# "reject" (550 at the end of DATA), "quarantine" (file to Junk) or "accept".
dmarc_reject = "reject"
# Answer for a recipient over quota: "temporary" (452 4.2.2) or "permanent" (552 5.2.2).
quota_exceeded = "temporary"

[submission]
# Mail from your users' clients (the \`submission\` role, RFC 6409). \`port\` speaks
# implicit TLS (RFC 8314: 465); \`starttls_port\` (587) requires STARTTLS before AUTH.
# Both require AUTH (the account password, or an app password with the smtp scope
# once the account has a second factor) and a sender address the account owns.
enabled = true
host = ${q(v.mxHost)}
port = ${v.submissionPort ?? 465}
starttls_port = ${v.submissionStarttlsPort ?? 587}
max_message_size = "25MiB"
max_recipients = 100
max_connections = 2000
max_connections_per_address = 20
max_line_length = 4096
socket_timeout_seconds = 300
# Name the client's IP address in the Received header. Off by default: a user's home
# or office address stays out of the mail they send.
received_client_address = false

[delivery]
# The outbound queue (the \`delivery\` role): local recipients are delivered to
# their mailbox, others to their domain's MX over SMTP.
enabled = true
# A message that cannot be delivered for this long is returned to its sender.
queue_lifetime_hours = 120
# Tell the sender when a message has waited this long (0 = never).
delay_warning_hours = 4
# Recipients delivered at once by this node, and at once to one destination domain.
concurrency = 20
per_destination_concurrency = 4
# Retries: the first after first_retry_seconds, each later one twice as long, at most
# max_retry_minutes apart.
first_retry_seconds = 300
max_retry_minutes = 240
# Local address outgoing connections start from ("" = chosen by the system).
source_address = ""
# The next hop's SMTP port (25; other values only for tests and special setups).
remote_port = 25
connect_timeout_seconds = 30
# Hand mail to loopback and private addresses too (only for tests or a closed network).
allow_private_addresses = false
# Extra trusted CA certificates (PEM) for checking MX certificates under MTA-STS.
tls_ca_file = ""
# Port of the mta-sts.DOMAIN policy hosts (443; other values only for tests).
mta_sts_port = 443

[mta_sts]
# The MTA-STS policy (RFC 8461) served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
# for every hosted domain; \`sealpost quickstart DOMAIN\` prints the DNS records it needs.
# Start with "testing" (senders report failures but still deliver) and move to
# "enforce" once TLS-RPT reports are clean.
mode = "testing"
max_age_seconds = 604800
# Host names senders may deliver to: empty means just \`hostname\`.
mx = []

[abuse]
# The abuse guard (submission role). Per-account limits: a message over one gets a
# temporary refusal (451 4.7.1) and nothing else happens. A spike far above the
# account's own baseline, or a burst of bounces, suspends the account's sending
# (550 5.7.1; its queued mail is held), tells the owner and the admin, and is
# written to the audit log. \`sealpost sending resume ADDRESS\` lifts it.
enabled = true
messages_per_hour = 200
messages_per_day = 1000
# New recipients: addresses the account has not written to in recipient_memory_days
# (remembered as keyed hashes, never in the clear).
new_recipients_per_hour = 100
new_recipients_per_day = 500
recipient_memory_days = 30
# Spike: the last hour's recipients over spike_factor x the baseline (mean recipients
# per active hour over baseline_days) and over spike_min_recipients.
spike_factor = 10
spike_min_recipients = 50
baseline_days = 7
# Bounce burst: bounce_min permanent failures in an hour, over bounce_percent of the
# day's recipients.
bounce_min = 20
bounce_percent = 30
# Who is told besides the owner: "" = postmaster@ the account's domain when it exists.
admin_address = ""
# The delivery role looks at a suspended sender's queued mail again after this long.
hold_minutes = 10

[imap]
# IMAP4rev2/IMAP4rev1 for mail clients (the \`imap\` role). \`port\` speaks implicit
# TLS (RFC 8314: 993). \`starttls_port\` (usually 143) is off when 0; when open, it
# offers STARTTLS and refuses LOGIN/AUTHENTICATE until TLS is up (LOGINDISABLED).
enabled = true
host = ${q(v.mxHost)}
port = ${v.imapPort}
starttls_port = 0
max_connections = 10000
max_connections_per_address = 50
# Largest message a client may APPEND (advertised as APPENDLIMIT, RFC 7889).
append_limit = "50MiB"
# Idle time allowed after login (RFC 9051 §5.4: at least 30 minutes) and before it.
idle_timeout_seconds = 1800
login_timeout_seconds = 60
# Commands allowed before login, and bad commands in one session, before BYE.
max_unauthenticated_commands = 20
max_bad_commands = 20

[pop3]
# POP3 (the \`pop3\` role). \`port\` speaks implicit TLS (RFC 8314: 995);
# \`starttls_port\` (usually 110) is off when 0 and refuses USER/PASS/AUTH before STLS.
enabled = true
host = ${q(v.mxHost)}
port = ${v.pop3Port}
starttls_port = 0
max_connections = 2000
max_connections_per_address = 20
# RFC 1939 §3: the inactivity autologout timer must be at least 10 minutes.
idle_timeout_seconds = 600
login_timeout_seconds = 60
max_unauthenticated_commands = 20

[web]
# HTTPS for browsers (the \`web\` role): login with a second factor, sessions and
# access tokens under /api/auth. HTTPS only; there is no cleartext port.
enabled = true
host = ${q(v.mxHost)}
port = ${v.webPort ?? 443}
# A session ends after this long unused, and this long after login whatever its use.
session_idle_minutes = 30
session_absolute_hours = 12
# Which client may use a session: "strict" (the address and browser it was created
# from) or "relaxed" (the same browser from the same /24 IPv4 or /64 IPv6 network,
# for mobile clients that change address). A session used from another client ends.
binding = "strict"
# The origin browsers see, when it is not https://hostname[:port] (a reverse proxy,
# another public name). Requests from any other Origin are refused (CSRF defence).
origin = ""
max_connections = 5000
max_connections_per_address = 100

[accounts]
# Quota for new accounts: 0 for none, or a size such as "10GiB".
default_quota = 0

[dns]
# Resolvers to use ("ip" or "ip:port"); empty uses the system's. A validating
# resolver on localhost is recommended (DNSSEC is needed for DANE).
servers = []
timeout_ms = 5000
# true when the first server validates DNSSEC (e.g. unbound on localhost): its AD bit
# is trusted and outgoing mail honours DANE TLSA records (RFC 7672).
dnssec = false

[log]
# trace, debug, info, warn, error, fatal or silent. Logs never contain passwords,
# keys, tokens or message bodies.
level = "info"
`;
}
