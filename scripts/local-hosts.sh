#!/bin/sh
# Local SSH test hosts for Ferry: one sshd per "host", each in its own mount
# namespace with its own /opt, /srv, /tmp and /etc (bind mounts of directories
# under $FERRY_STATE/hosts/<name>; /etc is a copy of this machine's, made once),
# so files never leak between hosts or to this machine.
# Used by the demo, the tests and the benchmarks. Needs root, util-linux
# (unshare, flock) and openssh-server/-client.
#
# Usage: scripts/local-hosts.sh [--hosts "name:address:port ..."] [--setenv NAME=VALUE]... start|stop|status|clean
#
# Each host listens on its own loopback address (127.0.0.2, 127.0.0.3, ...), like a separate machine, and also on
# 127.0.0.1 at the same port, as machines behind one port-forwarding gateway are reached (hosts that share an
# address); a host written name:port listens on 127.0.0.1 only. known_hosts lists both names.
#
#   start   start every host (reuses hosts already running), generate keys once,
#           write $FERRY_STATE/ssh/known_hosts, prove each host with a real ssh login
#   stop    stop hosts: the sshd, and every process left in the host's mount
#           namespace (e.g. Erlang nodes started over ssh; the shared epmd is
#           spared, a host's own epmd is not); data is kept
#   status  show each host; exit 0 if all are running, 1 otherwise
#   clean   stop, then remove host data (its /opt, /srv, /tmp, /etc and logs);
#           keys are kept. For a full reset: stop, then rm -rf "$FERRY_STATE".
#
#   --setenv NAME=VALUE  (start, repeatable) sshd's SetEnv for the hosts this start
#           starts: every command on them sees it. ERL_EPMD_PORT=<port> gives a host
#           its own epmd, so nodes of the same name can run on several hosts (they
#           cannot cluster with the other hosts' nodes then). Not kept: a host
#           stopped and started again without it runs without it.
#
# Environment:
#   FERRY_STATE  state directory (default: <project>/.ferry); must not be under /opt or /etc
#   FERRY_HOSTS  host list, like --hosts
# Default hosts: build:127.0.0.2:2221 prod1:127.0.0.3:2231 prod2:127.0.0.4:2232 prod3:127.0.0.5:2233
# staging1:127.0.0.6:2241.
# stop/status/clean without --hosts act on every host that exists under $FERRY_STATE.
#
# Layout:
#   $FERRY_STATE/ssh/id_ed25519{,.pub}   client key (root on every host)
#   $FERRY_STATE/ssh/known_hosts         "[ADDRESS]:PORT ssh-ed25519 AAAA..." per host
#   $FERRY_STATE/ssh/authorized_keys
#   $FERRY_STATE/hosts/<name>/           the host's directory, seen inside the host as /etc/ferry-host:
#       root/ srv/ tmp/ etc/             its /opt, /srv, /tmp and /etc
#       sshd_config ssh_host_ed25519_key authorized_keys bashrc sshd.pid sshd.log address port
#
# Log in:  ssh -i $FERRY_STATE/ssh/id_ed25519 -o UserKnownHostsFile=$FERRY_STATE/ssh/known_hosts \
#              -o StrictHostKeyChecking=yes -p 2231 root@127.0.0.3
# sshd logs at LogLevel VERBOSE: count logins with  grep -c 'Accepted publickey' .../sshd.log
# (start's own proof adds one login per host).

set -eu

DEFAULT_HOSTS="build:127.0.0.2:2221 prod1:127.0.0.3:2231 prod2:127.0.0.4:2232 prod3:127.0.0.5:2233 staging1:127.0.0.6:2241"
SSHD=/usr/sbin/sshd
# Where a host sees its own directory (bind-mounted before anything else, so its sshd
# files stay reachable wherever FERRY_STATE is, /tmp included).
HOST_DIR=/etc/ferry-host
# root's .bashrc on this machine, replaced inside every host by a plain one (see write_host_files)
ROOT_BASHRC=$(getent passwd root | cut -d: -f6)/.bashrc

die() { echo "local-hosts.sh: $*" >&2; exit 1; }
say() { echo "$*"; }

usage() {
    sed -n '9,29p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)

CMD=
HOSTS_ARG=${FERRY_HOSTS:-}
SETENV=
add_setenv() {
    case $1 in
        [A-Za-z_]*=*) ;;
        *) die "--setenv wants NAME=VALUE, got '$1'" ;;
    esac
    case $1 in
        *[[:space:]\"]*) die "--setenv value '$1' must not contain spaces or quotes" ;;
    esac
    SETENV="$SETENV $1"
}
while [ $# -gt 0 ]; do
    case $1 in
        --hosts) [ $# -ge 2 ] || die "--hosts needs a value"; HOSTS_ARG=$2; shift 2 ;;
        --hosts=*) HOSTS_ARG=${1#--hosts=}; shift ;;
        --setenv) [ $# -ge 2 ] || die "--setenv needs NAME=VALUE"; add_setenv "$2"; shift 2 ;;
        --setenv=*) add_setenv "${1#--setenv=}"; shift ;;
        -h|--help|help) usage ;;
        start|stop|status|clean) [ -z "$CMD" ] || die "one command at a time"; CMD=$1; shift ;;
        *) echo "local-hosts.sh: unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$CMD" ] || usage

[ "$(id -u)" = 0 ] || die "must run as root (needs unshare --mount and sshd)"
for tool in unshare "$SSHD" ssh ssh-keygen; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install openssh-server openssh-client util-linux)"
done

FERRY_STATE=$(realpath -m "${FERRY_STATE:-$ROOT_DIR/.ferry}")
case $FERRY_STATE/ in
    /opt/*|/etc/*) die "FERRY_STATE ($FERRY_STATE) must not be under /opt or /etc: each host binds its own dirs over them" ;;
esac
case $FERRY_STATE in
    *[[:space:]]*|*%*|*\"*) die "FERRY_STATE must not contain spaces, quotes or %" ;;
esac
mkdir -p "$FERRY_STATE"
SSH_DIR=$FERRY_STATE/ssh
HOSTS_DIR=$FERRY_STATE/hosts
KEY=$SSH_DIR/id_ed25519
KNOWN=$SSH_DIR/known_hosts

# One command at a time per state dir (tests may call us in parallel).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$FERRY_STATE/.local-hosts.lock"
    flock 9
fi

# ---- host list -------------------------------------------------------------

# Prints "name address port" lines; validates names, addresses, ports and duplicates.
# A host is name:address:port, or name:port on 127.0.0.1. The address must be a loopback one (127.x.y.z).
parse_hosts() {
    printf '%s\n' "$1" | tr ' \t,' '\n\n\n' | sed '/^$/d' | while IFS= read -r spec; do
        name=${spec%%:*}; rest=${spec#*:}
        [ "$name" != "$spec" ] || die "bad host '$spec' (want name:address:port or name:port)"
        case $rest in *:*) addr=${rest%:*}; port=${rest##*:} ;; *) addr=127.0.0.1; port=$rest ;; esac
        case $name in ''|*[!A-Za-z0-9_.-]*|.*) die "bad host name '$name'" ;; esac
        case $port in ''|*[!0-9]*) die "bad port '$port' for host $name" ;; esac
        [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port '$port' for host $name"
        printf '%s\n' "$addr" | grep -Eq '^127\.([0-9]{1,3}\.){2}[0-9]{1,3}$' ||
            die "bad address '$addr' for host $name (want a loopback address, 127.x.y.z)"
        echo "$name $addr $port"
    done
}

if [ -n "$HOSTS_ARG" ]; then
    HOSTS=$(parse_hosts "$HOSTS_ARG")
elif [ "$CMD" = start ]; then
    HOSTS=$(parse_hosts "$DEFAULT_HOSTS")
else
    # every host that exists (the defaults if there are none yet)
    HOSTS=
    if [ -d "$HOSTS_DIR" ]; then
        HOSTS=$(for d in "$HOSTS_DIR"/*/; do
            [ -f "$d/port" ] || continue
            echo "$(basename "$d") $(cat "$d/address" 2>/dev/null || echo 127.0.0.1) $(cat "$d/port")"
        done | sort -k3n)
    fi
    [ -n "$HOSTS" ] || HOSTS=$(parse_hosts "$DEFAULT_HOSTS")
fi
[ -n "$HOSTS" ] || die "empty host list"
dups=$(printf '%s\n' "$HOSTS" | awk '{print $1}' | sort | uniq -d)
[ -z "$dups" ] || die "host listed twice: $dups"
dups=$(printf '%s\n' "$HOSTS" | awk '{print $2 ":" $3}' | sort | uniq -d)
[ -z "$dups" ] || die "address and port listed twice: $dups"

# ---- helpers ---------------------------------------------------------------

# Prints the pid of the running sshd of host dir $1 ("" if none); removes a
# stale pid file. A pid counts only if it is the sshd of this host.
host_pid() {
    pidf=$1/sshd.pid
    [ -f "$pidf" ] || return 0
    pid=$(tr -dc '0-9' <"$pidf")
    if [ -n "$pid" ] && is_host_sshd "$pid" "$1"; then
        echo "$pid"
    else
        rm -f "$pidf"
    fi
}

# is_host_sshd PID DIR: PID is a live sshd listener of the host whose directory is DIR
is_host_sshd() {
    [ -r "/proc/$1/cmdline" ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    # the listener's title reads "sshd: /usr/sbin/sshd -D -f CONF ... [listener] ..."
    case $cmd in
        *" -R "*|*" -R") return 1 ;;
        # inside its mount namespace, the host's $HOST_DIR is DIR itself (same inode)
        *"$SSHD -D -f $HOST_DIR/sshd_config "*) [ "/proc/$1/root$HOST_DIR" -ef "$2" ] ;;
        # a host started by an older version of this script (only /opt of its own)
        *"$SSHD -D -f $2/sshd_config "*) return 0 ;;
        *) return 1 ;;
    esac
}

# alive PID: the process exists and is not a zombie (pid 1 here may reap late)
alive() {
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# Address and port of a running sshd ("ADDR:PORT"), from its config and command line.
running_endpoint() {
    echo "$(cat "$2/address" 2>/dev/null || echo 127.0.0.1):$(running_port "$1")"
}

# Port of a running sshd from its command line.
running_port() {
    tr '\0' ' ' <"/proc/$1/cmdline" | tr -s ' ' '\n' | awk 'p {print; exit} $0 == "-p" {p = 1}'
}

# port_user ADDR PORT: prints the pid of whatever listens on ADDR:PORT (or on every address at PORT; "?" if
# unknown), nothing if free.
port_user() {
    command -v ss >/dev/null 2>&1 || return 0
    out=$(ss -Hltnp "sport = :$2" 2>/dev/null | awk -v a="$1:$2" -v p=":$2" '$4 == a || $4 == "0.0.0.0" p || $4 == "*" p || $4 == "[::]" p') || return 0
    [ -n "$out" ] || return 0
    pid=$(printf '%s\n' "$out" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1)
    echo "${pid:-?}"
}

describe_pid() {
    if [ "$1" != "?" ] && [ -r "/proc/$1/cmdline" ]; then
        echo "pid $1: $(tr '\0' ' ' <"/proc/$1/cmdline" | cut -c1-120)"
    else
        echo "a process this script cannot see"
    fi
}

ensure_client_key() {
    mkdir -p "$SSH_DIR"
    chmod 700 "$SSH_DIR"
    if [ ! -f "$KEY" ] || [ ! -f "$KEY.pub" ]; then
        rm -f "$KEY" "$KEY.pub"
        ssh-keygen -q -t ed25519 -N "" -C "ferry-local-hosts" -f "$KEY"
    fi
    want=$(cat "$KEY.pub")
    if [ ! -f "$SSH_DIR/authorized_keys" ] || [ "$(cat "$SSH_DIR/authorized_keys")" != "$want" ]; then
        printf '%s\n' "$want" >"$SSH_DIR/authorized_keys.tmp"
        chmod 600 "$SSH_DIR/authorized_keys.tmp"
        mv -f "$SSH_DIR/authorized_keys.tmp" "$SSH_DIR/authorized_keys"
    fi
    touch "$KNOWN"
}

# write_host_files NAME ADDRESS PORT: host key (once), the host's /opt, /srv, /tmp and
# /etc (a copy of this machine's, made once), sshd_config, port file
write_host_files() {
    d=$HOSTS_DIR/$1
    mkdir -p "$d/root" "$d/srv" "$d/tmp"
    chmod 1777 "$d/tmp"
    if [ ! -d "$d/etc" ]; then
        rm -rf "$d/etc.tmp"
        cp -a /etc "$d/etc.tmp"
        mv "$d/etc.tmp" "$d/etc"
    fi
    mkdir -p "$d/etc${HOST_DIR#/etc}"
    if [ ! -f "$d/ssh_host_ed25519_key" ] || [ ! -f "$d/ssh_host_ed25519_key.pub" ]; then
        rm -f "$d/ssh_host_ed25519_key" "$d/ssh_host_ed25519_key.pub"
        ssh-keygen -q -t ed25519 -N "" -C "ferry-host-$1" -f "$d/ssh_host_ed25519_key"
    fi
    cp "$SSH_DIR/authorized_keys" "$d/authorized_keys.tmp"
    mv -f "$d/authorized_keys.tmp" "$d/authorized_keys"
    # Paths as the host sees them: its directory is $HOST_DIR inside its mount namespace.
    cat >"$d/sshd_config.tmp" <<EOF
# generated by scripts/local-hosts.sh for host $1 ($2 port $3); started with -p $3
ListenAddress $2
$([ "$2" = 127.0.0.1 ] || echo "ListenAddress 127.0.0.1  # also reachable at 127.0.0.1:$3, as through a port-forwarding gateway")
HostKey $HOST_DIR/ssh_host_ed25519_key
PidFile $HOST_DIR/sshd.pid
AuthorizedKeysFile $HOST_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
# many parallel connections/sessions from tests and benchmarks
MaxStartups 200
MaxSessions 64
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
    [ -z "$SETENV" ] || echo "SetEnv$SETENV" >>"$d/sshd_config.tmp"
    mv -f "$d/sshd_config.tmp" "$d/sshd_config"
    # The host's root gets a fresh server's .bashrc, not this machine's: sshd's shell reads it for every command,
    # and a developer's profile (pyenv and the like) would slow every step and print noise into stderr.
    printf '# .bashrc of root on local test host %s (bind-mounted by scripts/local-hosts.sh)\n' "$1" >"$d/bashrc"
    echo "$2" >"$d/address"
    echo "$3" >"$d/port"
}

# known_hosts's name for ADDR PORT: "[addr]:port", or the bare address on port 22, as OpenSSH writes them.
known_name() {
    if [ "$2" = 22 ]; then echo "$1"; else echo "[$1]:$2"; fi
}

# Rewrites known_hosts: entries for the listed hosts replace any old entry of their address and port.
update_known_hosts() {
    tmp=$KNOWN.tmp.$$
    cp "$KNOWN" "$tmp"
    printf '%s\n' "$HOSTS" | while read -r name addr port; do
        for a in "$addr" 127.0.0.1; do
            entry=$(known_name "$a" "$port")
            awk -v e="$entry" '$1 != e' "$tmp" >"$tmp.2" || true
            printf '%s %s\n' "$entry" \
                "$(awk '{print $1, $2}' "$HOSTS_DIR/$name/ssh_host_ed25519_key.pub")" >>"$tmp.2"
            mv -f "$tmp.2" "$tmp"
        done
    done
    sort -u "$tmp" >"$tmp.2" && mv -f "$tmp.2" "$tmp"
    if cmp -s "$tmp" "$KNOWN"; then rm -f "$tmp"; else mv -f "$tmp" "$KNOWN"; fi
}

ssh_proof() {
    ssh -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o UserKnownHostsFile="$KNOWN" -o StrictHostKeyChecking=yes \
        -o ConnectTimeout=5 -o LogLevel=ERROR -p "$2" "root@$1" true </dev/null
}

# start_host NAME ADDRESS PORT: prints a status word
start_host() {
    name=$1; addr=$2; port=$3; d=$HOSTS_DIR/$name
    pid=$(host_pid "$d")
    if [ -n "$pid" ]; then
        running=$(running_endpoint "$pid" "$d")
        [ "$running" = "$addr:$port" ] || die "host $name is already running on $running (not $addr:$port); stop it first"
        echo reused
        return 0
    fi
    # an sshd of ours whose pid file got lost? adopt it; anything else: fail.
    user=$(port_user "$addr" "$port")
    if [ -n "$user" ]; then
        if [ "$user" != "?" ] && is_host_sshd "$user" "$d"; then
            echo "$user" >"$d/sshd.pid"
            echo adopted
            return 0
        fi
        die "$addr:$port (host $name) is already in use by $(describe_pid "$user"); pick another port with --hosts"
    fi
    write_host_files "$name" "$addr" "$port"
    rm -f "$d/sshd.pid"
    echo "--- $(date '+%F %T') local-hosts.sh start $name on $addr port $port" >>"$d/sshd.log"
    # /etc first, then the host's directory inside it: everything after that comes from $HOST_DIR,
    # which stays reachable when FERRY_STATE itself is under /tmp or /srv.
    unshare --mount --propagation private sh -c '
        mount --bind "$1/etc" /etc && mount --bind "$1" "$2" &&
        mount --bind "$2/root" /opt && mount --bind "$2/srv" /srv && mount --bind "$2/tmp" /tmp &&
        { [ ! -f "$5" ] || mount --bind "$2/bashrc" "$5"; } &&
        exec "$3" -D -f "$2/sshd_config" -p "$4" -E "$2/sshd.log"' \
        ferry-host "$d" "$HOST_DIR" "$SSHD" "$port" "$ROOT_BASHRC" \
        </dev/null >>"$d/sshd.log" 2>&1 9>&- &
    bg=$!
    # sshd writes its pid file once it listens
    i=0
    while :; do
        if [ -s "$d/sshd.pid" ] && pid=$(host_pid "$d") && [ -n "$pid" ]; then
            echo started
            return 0
        fi
        if ! kill -0 "$bg" 2>/dev/null; then
            if grep -q 'Address already in use' "$d/sshd.log" 2>/dev/null; then
                die "$addr:$port (host $name) is already in use by another process; pick another port with --hosts"
            fi
            echo "local-hosts.sh: sshd for host $name (port $port) exited; last lines of $d/sshd.log:" >&2
            tail -n 5 "$d/sshd.log" >&2
            exit 1
        fi
        i=$((i + 1))
        [ $i -le 200 ] || { kill "$bg" 2>/dev/null || true; die "sshd for host $name did not start within 10 s; see $d/sshd.log"; }
        sleep 0.05
    done
}

# stop_host NAME: stops the sshd and every other process in its mount namespace
# (except the epmd all hosts share; a host's own, started under ERL_EPMD_PORT, goes too).
# Prints what it did.
stop_host() {
    d=$HOSTS_DIR/$1
    [ -d "$d" ] || { echo "absent"; return 0; }
    pid=$(host_pid "$d")
    [ -n "$pid" ] || { echo "stopped"; return 0; }
    ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null || true)
    victims=$pid
    if [ -n "$ns" ] && [ "$ns" != "$(readlink /proc/$$/ns/mnt)" ]; then
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            [ "$p" != "$pid" ] || continue
            [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
            if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = epmd ]; then
                tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q '^ERL_EPMD_PORT=' || continue
            fi
            victims="$victims $p"
        done
    fi
    # shellcheck disable=SC2086
    kill -TERM $victims 2>/dev/null || true
    i=0
    while [ $i -lt 100 ]; do
        alive=
        for p in $victims; do if alive "$p"; then alive="$alive $p"; fi; done
        [ -n "$alive" ] || break
        sleep 0.05
        i=$((i + 1))
    done
    if [ -n "${alive:-}" ]; then
        # shellcheck disable=SC2086
        kill -KILL $alive 2>/dev/null || true
    fi
    rm -f "$d/sshd.pid"
    n=$(echo "$victims" | wc -w)
    if [ "$n" -gt 1 ]; then echo "stopped sshd $pid and $((n - 1)) process(es) left on the host"; else echo "stopped sshd $pid"; fi
}

summary_line() {
    printf '  %-10s %-16s %-8s %-22s /opt /srv /tmp /etc = %s/{root,srv,tmp,etc}\n' "$1" "$2" "$3" "$4" "$HOSTS_DIR/$1"
}

# ---- commands --------------------------------------------------------------

case $CMD in
start)
    mkdir -p /run/sshd /opt /srv "$HOSTS_DIR"
    chmod 755 /run/sshd
    ensure_client_key
    # all host files and known_hosts first, then the daemons
    printf '%s\n' "$HOSTS" | while read -r name addr port; do
        d=$HOSTS_DIR/$name
        if [ -z "$(host_pid "$d")" ]; then write_host_files "$name" "$addr" "$port"; fi
    done
    update_known_hosts
    results=$(printf '%s\n' "$HOSTS" | while read -r name addr port; do
        how=$(start_host "$name" "$addr" "$port") || exit 1
        echo "$name $addr:$port $how"
    done) || exit 1
    # prove every host with a real login (in parallel)
    pids=
    for endpoint in $(printf '%s\n' "$HOSTS" | awk '{print $2 ":" $3}'); do
        ssh_proof "${endpoint%:*}" "${endpoint##*:}" &
        pids="$pids $!:$endpoint"
    done
    failed=
    for pp in $pids; do
        wait "${pp%%:*}" || failed="$failed ${pp#*:}"
    done
    [ -z "$failed" ] || die "ssh login failed on:$failed (see $HOSTS_DIR/*/sshd.log)"
    say "local test hosts up (FERRY_STATE=$FERRY_STATE):"
    printf '%s\n' "$results" | while read -r name endpoint how; do
        summary_line "$name" "$endpoint" "$how" "pid $(cat "$HOSTS_DIR/$name/sshd.pid")"
    done
    say "  login: ssh -i $KEY -o UserKnownHostsFile=$KNOWN -o StrictHostKeyChecking=yes -p PORT root@ADDRESS"
    ;;
stop)
    printf '%s\n' "$HOSTS" | while read -r name addr port; do
        [ -d "$HOSTS_DIR/$name" ] || continue
        say "  $name ($addr:$port): $(stop_host "$name")"
    done
    ;;
status)
    say "local test hosts (FERRY_STATE=$FERRY_STATE):"
    down=0
    for name in $(printf '%s\n' "$HOSTS" | awk '{print $1}'); do
        endpoint=$(printf '%s\n' "$HOSTS" | awk -v n="$name" '$1 == n {print $2 ":" $3}')
        d=$HOSTS_DIR/$name
        pid=
        [ ! -d "$d" ] || pid=$(host_pid "$d")
        if [ -n "$pid" ]; then
            summary_line "$name" "$(running_endpoint "$pid" "$d")" running "pid $pid"
        elif [ -d "$d" ]; then
            summary_line "$name" "$endpoint" stopped ""; down=1
        else
            summary_line "$name" "$endpoint" absent ""; down=1
        fi
    done
    exit $down
    ;;
clean)
    printf '%s\n' "$HOSTS" | while read -r name addr port; do
        d=$HOSTS_DIR/$name
        [ -d "$d" ] || continue
        r=$(stop_host "$name")
        rm -rf "${d:?}/root" "$d/srv" "$d/tmp" "$d/etc" "$d/etc.tmp" "$d/sshd.log" "$d/sshd.pid"
        say "  $name ($addr:$port): $r; removed its /opt, /srv, /tmp, /etc and log"
    done
    ;;
esac
