#!/usr/bin/env bash
# mail-servers.sh — throwaway Postfix + Dovecot on loopback for coachmail's tests.
#
# Everything a running instance owns lives in one directory DIR (created if
# needed, safe to `rm -rf` after `stop`; a stopped DIR can be started again,
# keeping its mail and relay rules, on new ports). Nothing listens anywhere but
# 127.0.0.1, on free high ports picked at start time. Needs root (Postfix's
# master and Dovecot's master start as root and drop privileges).
#
# Commands
#   install                 apt-get the Debian packages, Chromium for the email
#                           layout tests too (idempotent; see install_packages)
#   start DIR               write configs + TLS cert into DIR, start everything, wait
#                           until SMTP and IMAP answer, write DIR/env and print it
#   stop DIR                stop Postfix, Dovecot and the relay policy daemon
#                           (then SIGKILL whatever still owns a pid file under DIR)
#   status DIR              say what is running (exit 0 only if everything is up)
#   restart-dovecot DIR     stop + start Dovecot only (open IMAP sessions are cut)
#   stop-postfix DIR / start-postfix DIR / restart-postfix DIR
#                           the relay alone (for "connection refused" tests)
#   defer DIR ADDR [N|SECONDSs]   relay answers 451 at RCPT for ADDR
#                           (N = only the first N attempts, e.g. 3; "30s" = for
#                           30 seconds; nothing = until removed)
#   reject DIR ADDR [N|SECONDSs]  same with 550 (permanent)
#   allow DIR ADDR          remove every rule for ADDR;  `allow DIR all` = remove all
#   rules DIR               print the rule file and the decisions log
#   pipe-exit DIR CODE      exit code the stand-in ingest command returns next (0, 75, 65...)
#   flush DIR               ask Postfix to retry its deferred queue now
#   queue DIR               show Postfix's queue
#   selftest DIR            run scripts/mail-servers-selftest.py against DIR
#
# After `start`, DIR/env holds KEY=value lines (no quotes, no spaces), e.g.
#   MAIL_HOST=127.0.0.1           MAIL_TLS_NAME=localhost (certificate names
#                                 localhost, 127.0.0.1 and ::1)
#   MAIL_DOMAIN=example.org
#   MAIL_SMTP_PORT=               SMTP, plaintext allowed, STARTTLS offered,
#                                 AUTH optional (also over plaintext: loopback
#                                 tests). Anyone may send to @example.org (like an MX).
#   MAIL_SUBMISSION_PORT=         STARTTLS required, AUTH required (like 587)
#   MAIL_SMTPS_PORT=              implicit TLS, AUTH required (like 465)
#   MAIL_IMAP_PORT=               IMAP, STARTTLS offered (plaintext LOGIN allowed)
#   MAIL_IMAPS_PORT=              IMAP over implicit TLS
#   MAIL_CA_CERT=DIR/tls/ca.pem   the CA to trust; the servers' leaf cert is
#                                 DIR/tls/server.pem (signed by that CA)
#   MAIL_USERS=alice,bruno,maya,tom,pulse,postmaster
#   MAIL_PASSWORD_<user>=...      log in as `<user>` or `<user>@example.org`
#                                 (same account for SMTP AUTH and IMAP)
#   MAIL_MAILDIR_ROOT=DIR/mail    each user's Maildir is DIR/mail/<user>
#   MAIL_PIPE_ADDRESS=ingest@example.org, MAIL_PIPE_DIR=DIR/pipe (see below)
#   MAIL_RELAY_RULES=DIR/relay-rules, MAIL_RELAY_LOG=DIR/log/relay-policy.log
# Rust tests: run `start`, parse DIR/env, and `stop` at the end.
#
# Mail routing (virtual domain example.org, recipient_delimiter = +):
#   alice bruno maya tom pulse postmaster @example.org → DIR/mail/<user>/ (Maildir,
#   delivered by Postfix's virtual(8), read by Dovecot). pulse+anything@ → pulse.
#   reflect@ and reflect+anything@ → pulse (virtual alias: coachmail's forms
#   carry Reply-To reflect+KEY@<domain>, so replies reach the service mailbox).
#   ingest@example.org and ingest+anything@ → Postfix pipe(8) transport
#   "coachmail" running MAIL_PIPE_ARGV (default: a stand-in DIR/bin/ingest-standin
#   that saves the message under DIR/pipe/ and exits with the code in
#   DIR/pipe/exit-code; every attempt is logged in DIR/pipe/attempts.log).
#   Set MAIL_PIPE_ARGV (and MAIL_PIPE_USER, default nobody) at `start` to pipe to
#   the real `coachmail ingest ...` instead. Other domains: 554 relay denied.
#   Unknown users at example.org: 550 at RCPT.
#
# Failure injection (the relay's RCPT/end-of-DATA answers): a tiny Postfix
# policy daemon (DIR/bin/relay-policy.py, run by this script) reads
# DIR/relay-rules on every request, so changes apply at once, even on SMTP
# connections that are already open (pooled) — no reload needed. Lines:
#     ADDRESS ACTION [count=N] [until=EPOCH] [stage=rcpt|data] [id=...]
#   ADDRESS: full address, user@domain (also matches user+ext@domain),
#            @domain, or * ; case-insensitive.
#   ACTION:  defer (451 4.3.0), reject (550 5.7.1) or any 4xx/5xx code.
#   count=N: only the first N matching requests are refused, then accepted.
#   until=EPOCH: refused until that Unix time.
#   stage=data: refuse at end of DATA instead of RCPT (one recipient a message).
# Always present: defer-me@example.org → 451, reject-me@example.org → 550.
# Decisions are appended to DIR/log/relay-policy.log ("<epoch> <stage>
# <recipient> <action>") so a test can count the attempts the relay saw.
#
# Outside DIR this script changes nothing but the installed packages (install),
# and reads the packages' own files (/usr/lib/postfix, /etc/postfix/postfix-files,
# /usr/share/dovecot). It does not need or create /etc/postfix/main.cf: the
# private Postfix runs with `postfix -c DIR/postfix` (root may use any config
# directory) and logs to DIR/log/postfix.log via postlogd.
set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DOMAIN=example.org
USERS=(alice bruno maya tom pulse postmaster)
VMAIL_UID=${MAIL_VMAIL_UID:-5000}   # owner of the Maildirs (numeric, needs no passwd entry)
VMAIL_GID=${MAIL_VMAIL_GID:-5000}
# chromium: not a mail server, but the tests' reader — tests/emails.rs lays
# every email out in headless Chromium at a phone's width.
PKGS=(postfix dovecot-core dovecot-imapd openssl ca-certificates python3 chromium)

# Debian's python3 if present (starts faster than a pyenv shim; the daemon does
# not depend on root's PATH); any python3 >= 3.7 otherwise.
PY=$(command -v /usr/bin/python3 || command -v python3 || echo python3)

die() { echo "mail-servers: $*" >&2; exit 1; }
log() { echo "mail-servers: $*" >&2; }
password_of() { echo "$1-test-pw-4242"; }   # known, deterministic test passwords

# ---------------------------------------------------------------- install ---
# Owns: the Debian packages. Preseeds Postfix to "No configuration": its
# postinst then writes no /etc/postfix/main.cf, so the system-wide Postfix
# cannot start and nothing listens on port 25. A temporary policy-rc.d (only
# if none exists) stops invoke-rc.d from starting Dovecot/Postfix system-wide
# during the install; afterwards we stop anything that started anyway.
install_packages() {
    local missing=() p
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then log "packages already installed"; return 0; fi
    [ "$(id -u)" = 0 ] || die "install needs root"
    export DEBIAN_FRONTEND=noninteractive
    debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string localhost
EOF
    local made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# temporary, from coachmail scripts/mail-servers.sh install\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local rc=0
    { apt-get update -qq && apt-get install -y -q --no-install-recommends "${missing[@]}"; } || rc=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    [ $rc = 0 ] || die "apt-get failed ($rc)"
    # If a system-wide instance started anyway (a machine with systemd and an
    # older config), stop it: the tests only use private instances.
    if [ -e /etc/postfix/main.cf ]; then
        log "note: /etc/postfix/main.cf existed before (a configured system Postfix); left alone"
    fi
    if [ -e /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
        log "stopping the system-wide Dovecot the package started"
        dovecot stop 2>/dev/null || true
        if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
            systemctl disable --now dovecot.service dovecot.socket 2>/dev/null || true
        fi
    fi
    log "installed: ${missing[*]}"
}

# ------------------------------------------------------------------ paths ---
set_paths() {
    [ -n "${1:-}" ] || die "missing DIR"
    DIR=$(realpath -m "$1")
    PF_CONF=$DIR/postfix            # Postfix config_directory (main.cf, master.cf, maps)
    PF_QUEUE=$DIR/postfix-queue     # Postfix queue_directory (pid/master.pid inside)
    PF_DATA=$DIR/postfix-data       # Postfix data_directory
    DC_CONF=$DIR/dovecot.conf
    DC_RUN=$DIR/dovecot-run         # Dovecot base_dir (master.pid, auth sockets)
    RUN=$DIR/run                    # our own daemon: relay policy
    POLICY_PID=$RUN/relay-policy.pid
    POLICY_SOCK=$RUN/relay-policy.sock
    RULES=$DIR/relay-rules
    ENV_FILE=$DIR/env
}

env_get() { sed -n "s/^$1=//p" "$ENV_FILE" 2>/dev/null | tail -1; }

free_ports() {   # print N distinct free loopback TCP ports
    "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

wait_ports() {   # wait_ports PORT:GREETING[:tls] ...: until every server greets (30 s max)
    "$PY" - "$@" <<'EOF'
import socket, ssl, sys, time
deadline = time.time() + 30
for spec in sys.argv[1:]:
    port, prefix, *tls = spec.split(":")
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", int(port)), timeout=2)
            if tls:
                ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
                s = ctx.wrap_socket(s)
            ok = s.recv(200).startswith(prefix.encode())
            s.close()
            if ok:
                break
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit("no greeting on port %s" % port)
        time.sleep(0.05)
EOF
}

pid_alive() { [ -s "$1" ] && kill -0 "$(tr -dc 0-9 <"$1")" 2>/dev/null; }

# -------------------------------------------------------------------- TLS ---
# Owns DIR/tls: a CA and a leaf certificate it signs (rustls/webpki refuse a
# CA certificate used as a server certificate, so the leaf is separate).
make_tls() {
    local t=$DIR/tls
    mkdir -p "$t"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -sha256 \
        -subj "/CN=coachmail test CA" -keyout "$t/ca.key" -out "$t/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
    cat >"$t/server.ext" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:mail.example.org
EOF
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
        -days 7 -sha256 -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
    cat "$t/server.pem" "$t/ca.pem" >"$t/server-chain.pem"
    chmod 644 "$t"/*.pem; chmod 600 "$t"/*.key
}

# ------------------------------------------------------------ relay policy ---
# Owns DIR/bin/relay-policy.py, DIR/run/relay-policy.{sock,pid}, DIR/relay-rules.
write_policy_daemon() {
    mkdir -p "$DIR/bin" "$RUN" "$DIR/log"
    chmod 755 "$RUN"
    cat >"$DIR/bin/relay-policy.py" <<'EOF'
#!/usr/bin/env python3
"""Postfix policy daemon (access policy delegation protocol) for tests.

Reads the rules file on every request; see mail-servers.sh header for the format.
argv: SOCKET RULES LOG
"""
import os, socket, sys, threading, time

sock_path, rules_path, log_path = sys.argv[1:4]
counters = {}            # rule line -> times it has refused
lock = threading.Lock()
DEFAULT = {"defer": "451 4.3.0 coachmail test relay: deferred by rule",
           "reject": "550 5.7.1 coachmail test relay: rejected by rule"}

def rules():
    out = []
    try:
        with open(rules_path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                words = line.split()
                if len(words) < 2:
                    continue
                opts = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                out.append((line, words[0].lower(), words[1].lower(), opts))
    except FileNotFoundError:
        pass
    return out

def matches(pattern, rcpt):
    if pattern == "*":
        return True
    local, _, domain = rcpt.rpartition("@")
    if pattern.startswith("@"):
        return pattern[1:] == domain
    base = local.split("+", 1)[0] + "@" + domain
    return pattern in (rcpt, base)

def decide(req):
    state = req.get("protocol_state", "RCPT")
    stage = "data" if state == "END-OF-MESSAGE" else "rcpt"
    rcpt = req.get("recipient", "").lower()
    action = "DUNNO"
    with lock:
        for line, pattern, act, opts in rules():
            if opts.get("stage", "rcpt") != stage or not matches(pattern, rcpt):
                continue
            if "until" in opts and time.time() >= float(opts["until"]):
                continue
            if "count" in opts and counters.get(line, 0) >= int(opts["count"]):
                continue
            counters[line] = counters.get(line, 0) + 1
            action = DEFAULT.get(act) or "%s coachmail test relay: refused by rule (%s)" % (act, line)
            if act[:1] in "45" and act.isdigit():
                action = "%s %s.0.0 coachmail test relay: refused by rule" % (act, act[0])
            break
        with open(log_path, "a") as f:
            f.write("%.3f %s %s %s\n" % (time.time(), stage, rcpt or "-", action))
    return action

def serve(conn):
    buf = b""
    try:
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                req = dict(l.split("=", 1) for l in block.decode(errors="replace").split("\n") if "=" in l)
                conn.sendall(("action=%s\n\n" % decide(req)).encode())
    except OSError:
        pass
    finally:
        conn.close()

try:
    os.unlink(sock_path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
os.chmod(sock_path, 0o666)
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
    chmod 755 "$DIR/bin/relay-policy.py"
    if [ ! -e "$RULES" ]; then
        cat >"$RULES" <<'EOF'
# ADDRESS ACTION [count=N] [until=EPOCH] [stage=rcpt|data] — see scripts/mail-servers.sh
defer-me@example.org  defer
reject-me@example.org reject
EOF
    fi
    chmod 644 "$RULES"
}

start_policy() {
    pid_alive "$POLICY_PID" && return 0
    nohup "$PY" "$DIR/bin/relay-policy.py" "$POLICY_SOCK" "$RULES" "$DIR/log/relay-policy.log" \
        >>"$DIR/log/relay-policy.stderr" 2>&1 </dev/null &
    echo $! >"$POLICY_PID"
    for _ in $(seq 50); do [ -S "$POLICY_SOCK" ] && return 0; sleep 0.1; done
    die "relay policy daemon did not start (see $DIR/log/relay-policy.stderr)"
}

stop_policy() {
    if pid_alive "$POLICY_PID"; then kill "$(cat "$POLICY_PID")" 2>/dev/null || true; fi
    rm -f "$POLICY_PID" "$POLICY_SOCK"
}

add_rule() {   # add_rule ACTION ADDR [N | Ns]
    local action=$1 addr=$2 limit=${3:-} extra=""
    case "$limit" in
        "") ;;
        *s) extra="until=$(( $(date +%s) + ${limit%s} ))" ;;
        *[!0-9]*) die "limit must be N (attempts) or Ns (seconds)" ;;
        *) extra="count=$limit" ;;
    esac
    echo "$addr $action $extra id=$(date +%s%N)" >>"$RULES"
}

remove_rules() {   # remove_rules ADDR|all  (keeps the two permanent examples)
    local tmp="$RULES.tmp"
    if [ "$1" = all ]; then
        grep -E '^(#|defer-me@|reject-me@)' "$RULES" >"$tmp" || true
    else
        awk -v a="$(echo "$1" | tr A-Z a-z)" 'tolower($1) != a' "$RULES" >"$tmp"
    fi
    chmod 644 "$tmp"; mv "$tmp" "$RULES"
}

# ------------------------------------------------------------------ pipe ---
# Owns DIR/bin/ingest-standin and DIR/pipe: the stand-in for `coachmail ingest`.
write_pipe_standin() {
    mkdir -p "$DIR/pipe"
    chmod 1777 "$DIR/pipe"
    [ -e "$DIR/pipe/exit-code" ] || echo 0 >"$DIR/pipe/exit-code"
    chmod 666 "$DIR/pipe/exit-code"
    cat >"$DIR/bin/ingest-standin" <<'EOF'
#!/bin/sh
# Stand-in for `coachmail ingest`: saves stdin, exits with the code in exit-code.
d=$(dirname "$0")/../pipe
code=$(cat "$d/exit-code" 2>/dev/null || echo 0)
tmp="$d/tmp.$$"
cat >"$tmp"
if [ "$code" = 0 ]; then mv "$tmp" "$d/msg.$(date +%s%N).$$.eml"; else rm -f "$tmp"; fi
echo "$(date +%s) recipient=$1 exit=$code" >>"$d/attempts.log"
exit "$code"
EOF
    chmod 755 "$DIR/bin/ingest-standin" "$DIR/bin"
}

# --------------------------------------------------------------- postfix ---
# Owns DIR/postfix (config), DIR/postfix-queue, DIR/postfix-data, DIR/log/postfix.log.
write_postfix_config() {
    local smtp=$1 sub=$2 smtps=$3
    local pipe_user=${MAIL_PIPE_USER:-nobody}
    local pipe_argv=${MAIL_PIPE_ARGV:-$DIR/bin/ingest-standin \$\{recipient\}}
    mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA"
    chown postfix "$PF_DATA"
    cat >"$PF_CONF/main.cf" <<EOF
# Private Postfix instance for coachmail tests (generated by scripts/mail-servers.sh).
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/log/postfix.log
maillog_file_prefixes = $DIR/log
syslog_name = postfix-coachmail-test

myhostname = mail.example.org
mydomain = example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
# Nothing ever leaves this machine.
default_transport = error:5.7.1 coachmail test relay delivers only to @example.org
relay_transport = \$default_transport
local_transport = \$default_transport

# Virtual mailboxes: DIR/mail/<user>/ (Maildir), read by Dovecot.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $DIR/mail
virtual_mailbox_maps = texthash:$PF_CONF/virtual_mailboxes
virtual_uid_maps = static:$VMAIL_UID
virtual_gid_maps = static:$VMAIL_GID
virtual_minimum_uid = 100
recipient_delimiter = +
transport_maps = texthash:$PF_CONF/transport
virtual_alias_maps = texthash:$PF_CONF/virtual_aliases
coachmail_destination_recipient_limit = 1

# TLS: a certificate made at start time (DIR/tls).
smtpd_tls_chain_files = $DIR/tls/server.key, $DIR/tls/server-chain.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_loglevel = 0

# SASL through Dovecot's auth socket.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC_RUN/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_sasl_authenticated_header = no

# Who may send what: only to @example.org; failure injection by the policy daemon.
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_policy_service unix:$POLICY_SOCK, reject_unlisted_recipient, permit
smtpd_end_of_data_restrictions = check_policy_service unix:$POLICY_SOCK
smtpd_policy_service_default_action = 451 4.3.5 coachmail test relay: policy daemon down

# Quick retries, so deferred mail (pipe exit 75) comes back within seconds.
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
smtpd_client_connection_count_limit = 0
# No tarpit: refused RCPTs and failed AUTH answer at once (tests refuse a lot).
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
anvil_rate_time_unit = 60s
biff = no
EOF
    # master.cf: the three listeners plus Postfix's standard internal services, none chrooted.
    cat >"$PF_CONF/master.cf" <<EOF
# service               type  private unpriv chroot wakeup maxproc command + args
127.0.0.1:$smtp         inet  n       -      n      -      -       smtpd
127.0.0.1:$sub          inet  n       -      n      -      -       smtpd
  -o syslog_name=postfix-coachmail-test/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$smtps        inet  n       -      n      -      -       smtpd
  -o syslog_name=postfix-coachmail-test/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
local      unix  -       n       n       -       -       local
virtual    unix  -       n       n       -       -       virtual
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
# The MTA-pipe path: ingest@ and ingest+*@example.org → \`coachmail ingest\` (or its stand-in).
coachmail  unix  -       n       n       -       -       pipe
  flags=DRq user=$pipe_user argv=$pipe_argv
EOF
    : >"$PF_CONF/virtual_mailboxes"
    local u
    for u in "${USERS[@]}" ingest; do echo "$u@$DOMAIN $u/" >>"$PF_CONF/virtual_mailboxes"; done
    echo "ingest@$DOMAIN coachmail:" >"$PF_CONF/transport"
    # the forms' Reply-To (reflect+KEY@) lands in pulse's mailbox
    echo "reflect@$DOMAIN pulse@$DOMAIN" >"$PF_CONF/virtual_aliases"
    # texthash: maps (read at process start, no postmap needed; fixed for the instance's life)
}

postfix_running() { pid_alive "$PF_QUEUE/pid/master.pid"; }   # (`postfix status` takes ~1 s)

start_postfix() {
    postfix_running && return 0
    # Create/repair the queue tree and its ownership (postfix:postdrop) quietly.
    postfix -c "$PF_CONF" start >>"$DIR/log/postfix-start.log" 2>&1 \
        || die "postfix did not start; see $DIR/log/postfix-start.log and $DIR/log/postfix.log"
}

stop_postfix() {
    if postfix_running; then postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true; fi
    kill_pidfile "$PF_QUEUE/pid/master.pid"
}

# --------------------------------------------------------------- dovecot ---
# Owns DIR/dovecot.conf, DIR/dovecot-users, DIR/dovecot-run, DIR/dovecot-state,
# DIR/mail (shared with Postfix's virtual delivery), DIR/log/dovecot.log.
write_dovecot_config() {
    local imap=$1 imaps=$2 u
    mkdir -p "$DIR/dovecot-state" "$DIR/mail"
    chown "$VMAIL_UID:$VMAIL_GID" "$DIR/mail"
    : >"$DIR/dovecot-users"
    for u in "${USERS[@]}"; do
        echo "$u:{PLAIN}$(password_of "$u"):$VMAIL_UID:$VMAIL_GID::$DIR/mail/$u::" >>"$DIR/dovecot-users"
    done
    chmod 644 "$DIR/dovecot-users"
    local dh=""
    [ -r /usr/share/dovecot/dh.pem ] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
    cat >"$DC_CONF" <<EOF
# Private Dovecot instance for coachmail tests (generated by scripts/mail-servers.sh).
instance_name = coachmail-test-$(echo "$DIR" | cksum | cut -d' ' -f1)
base_dir = $DC_RUN
state_dir = $DIR/dovecot-state
protocols = imap
listen = 127.0.0.1
log_path = $DIR/log/dovecot.log
info_log_path = $DIR/log/dovecot.log

ssl = yes
ssl_cert = <$DIR/tls/server-chain.pem
ssl_key = <$DIR/tls/server.key
$dh
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_failure_delay = 0
first_valid_uid = 100

passdb {
  driver = passwd-file
  args = scheme=PLAIN $DIR/dovecot-users
}
userdb {
  driver = passwd-file
  args = $DIR/dovecot-users
}
mail_location = maildir:$DIR/mail/%u
mail_fsync = optimized
namespace inbox {
  inbox = yes
}
protocol imap {
  imap_idle_notify_interval = 30 secs
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
    ssl = yes
  }
}
# No auth penalty (growing delays after failed logins from 127.0.0.1, which
# would slow the wrong-password tests): the documented switch is mode 0 here.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
}

dovecot_running() { pid_alive "$DC_RUN/master.pid"; }

start_dovecot() {
    dovecot_running && return 0
    dovecot -c "$DC_CONF" </dev/null >>"$DIR/log/dovecot.stderr" 2>&1 || die "dovecot did not start; see $DIR/log/dovecot.log"
}

stop_dovecot() {
    if dovecot_running; then dovecot -c "$DC_CONF" stop >/dev/null 2>&1 || true; fi
    kill_pidfile "$DC_RUN/master.pid"
}

# kill_pidfile FILE: wait up to 10 s for a graceful exit, then SIGKILL.
kill_pidfile() {
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    log "pid $pid ($f) still alive: SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ start ---
cmd_start() {
    [ "$(id -u)" = 0 ] || die "start needs root (Postfix and Dovecot masters run as root)"
    command -v postfix >/dev/null && command -v dovecot >/dev/null || die "run '$0 install' first"
    local t0; t0=$(date +%s.%N)
    mkdir -p "$DIR/log"
    chmod 755 "$DIR"
    if postfix_running || dovecot_running; then die "already running in $DIR (stop it first)"; fi
    local ports smtp sub smtps imap imaps
    ports=$(free_ports 5); read -r smtp sub smtps imap imaps <<<"$ports"
    make_tls
    write_policy_daemon
    write_pipe_standin
    write_dovecot_config "$imap" "$imaps"
    write_postfix_config "$smtp" "$sub" "$smtps"
    start_policy
    start_dovecot
    start_postfix
    wait_ports "$smtp:220" "$sub:220" "$smtps:220:tls" "$imap:* OK" "$imaps:* OK:tls" \
        || die "servers did not answer; see $DIR/log/"
    {
        echo "MAIL_DIR=$DIR"
        echo "MAIL_HOST=127.0.0.1"
        echo "MAIL_TLS_NAME=localhost"
        echo "MAIL_DOMAIN=$DOMAIN"
        echo "MAIL_SMTP_PORT=$smtp"
        echo "MAIL_SUBMISSION_PORT=$sub"
        echo "MAIL_SMTPS_PORT=$smtps"
        echo "MAIL_IMAP_PORT=$imap"
        echo "MAIL_IMAPS_PORT=$imaps"
        echo "MAIL_CA_CERT=$DIR/tls/ca.pem"
        echo "MAIL_USERS=$(IFS=,; echo "${USERS[*]}")"
        local u; for u in "${USERS[@]}"; do echo "MAIL_PASSWORD_$u=$(password_of "$u")"; done
        echo "MAIL_MAILDIR_ROOT=$DIR/mail"
        echo "MAIL_PIPE_ADDRESS=ingest@$DOMAIN"
        echo "MAIL_PIPE_DIR=$DIR/pipe"
        echo "MAIL_RELAY_RULES=$RULES"
        echo "MAIL_RELAY_LOG=$DIR/log/relay-policy.log"
    } >"$ENV_FILE"
    cat "$ENV_FILE"
    log "up in $("$PY" -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)") s"
}

cmd_stop() {
    stop_postfix
    stop_dovecot
    stop_policy
    log "stopped ($DIR)"
}

cmd_status() {
    local ok=0
    if postfix_running; then echo "postfix: running"; else echo "postfix: stopped"; ok=1; fi
    if dovecot_running; then echo "dovecot: running"; else echo "dovecot: stopped"; ok=1; fi
    if pid_alive "$POLICY_PID"; then echo "relay-policy: running"; else echo "relay-policy: stopped"; ok=1; fi
    [ -e "$ENV_FILE" ] && grep -E '_PORT=' "$ENV_FILE"
    return $ok
}

# ------------------------------------------------------------------- main ---
cmd=${1:-}
case "$cmd" in
    install) install_packages ;;
    start)   set_paths "${2:-}"; cmd_start ;;
    stop)    set_paths "${2:-}"; cmd_stop ;;
    status)  set_paths "${2:-}"; cmd_status ;;
    restart-dovecot) set_paths "${2:-}"; stop_dovecot; start_dovecot
             wait_ports "$(env_get MAIL_IMAP_PORT):* OK"; log "dovecot restarted" ;;
    stop-postfix)  set_paths "${2:-}"; stop_postfix ;;
    start-postfix) set_paths "${2:-}"; start_postfix; wait_ports "$(env_get MAIL_SMTP_PORT):220" ;;
    restart-postfix) set_paths "${2:-}"; stop_postfix; start_postfix; wait_ports "$(env_get MAIL_SMTP_PORT):220" ;;
    defer|reject) set_paths "${2:-}"; [ -n "${3:-}" ] || die "usage: $cmd DIR ADDRESS [N|Ns]"
             add_rule "$cmd" "$3" "${4:-}" ;;
    allow)   set_paths "${2:-}"; [ -n "${3:-}" ] || die "usage: allow DIR ADDRESS|all"; remove_rules "$3" ;;
    rules)   set_paths "${2:-}"; cat "$RULES"; echo "--- decisions:"; cat "$DIR/log/relay-policy.log" 2>/dev/null || true ;;
    pipe-exit) set_paths "${2:-}"; [ -n "${3:-}" ] || die "usage: pipe-exit DIR CODE"; echo "$3" >"$DIR/pipe/exit-code" ;;
    flush)   set_paths "${2:-}"; postqueue -c "$PF_CONF" -f ;;
    queue)   set_paths "${2:-}"; postqueue -c "$PF_CONF" -p ;;
    selftest) set_paths "${2:-}"; "$PY" "$SELF_DIR/mail-servers-selftest.py" "$DIR" ;;
    *) sed -n '2,30p' "$0" >&2; exit 2 ;;
esac
